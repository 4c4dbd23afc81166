/**
 * The state tables of a quantization job (STYLE 15): a job moves calibrating → building → done | failed, and a
 * device asked to calibrate moves asked → reported | rejected | refused | failed | cancelled, once. Every job change
 * goes through {@link checkQuantizationTransition} (quantization-repo.ts writes nothing else); a change the table
 * does not know is HUB_ERR_ILLEGAL_TRANSITION, never a silent write.
 */
import { HubError } from '../errors.js';

export const QUANTIZATION_STATES = ['calibrating', 'building', 'done', 'failed'] as const;
export type QuantizationState = (typeof QUANTIZATION_STATES)[number];

const NEXT: Readonly<Record<QuantizationState, readonly QuantizationState[]>> = {
  calibrating: ['building', 'failed'],
  building: ['done', 'failed'],
  done: [],
  failed: [],
};

/** Throws HUB_ERR_ILLEGAL_TRANSITION unless the table allows `from` → `to`. */
export function checkQuantizationTransition(jobId: string, from: QuantizationState, to: QuantizationState): void {
  if (!NEXT[from].includes(to)) {
    throw new HubError('HUB_ERR_ILLEGAL_TRANSITION', {
      message: `quantization ${jobId}: ${from} → ${to} is not a transition`, details: { jobId, from, to },
    });
  }
}

export function isFinished(state: QuantizationState): boolean {
  return NEXT[state].length === 0;
}

/**
 * What became of a device asked to calibrate: `asked` until it answers; `reported` = its statistics were accepted,
 * `rejected` = its report was refused (a reason code says why), `refused` / `failed` = it answered without a report,
 * `cancelled` = no answer by the end of calibration.
 */
export const CALIBRATION_DEVICE_STATES = ['asked', 'reported', 'rejected', 'refused', 'failed', 'cancelled'] as const;
export type CalibrationDeviceState = (typeof CALIBRATION_DEVICE_STATES)[number];
