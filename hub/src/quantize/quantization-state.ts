/**
 * The state tables of a quantization job (STYLE 15): a job moves calibrating → building → [evaluating →] done |
 * failed, and a device asked to calibrate moves asked → reported | rejected | refused | failed | cancelled, once.
 * Evaluating the built int8 file on the fleet never fails a job (the file is good): evaluating leads to done only,
 * and the evaluation's own state says how it ended. Every change of either goes through {@link
 * checkQuantizationTransition} / {@link checkFleetEvalTransition} (quantization-repo.ts writes nothing else); a
 * change a table does not know is HUB_ERR_ILLEGAL_TRANSITION, never a silent write.
 */
import { HubError } from '../errors.js';

export const QUANTIZATION_STATES = ['calibrating', 'building', 'evaluating', 'done', 'failed'] as const;
export type QuantizationState = (typeof QUANTIZATION_STATES)[number];

const NEXT: Readonly<Record<QuantizationState, readonly QuantizationState[]>> = {
  calibrating: ['building', 'failed'],
  building: ['evaluating', 'done', 'failed'],
  evaluating: ['done'],
  done: [],
  failed: [],
};

/**
 * How the fleet evaluation of a job's int8 file stands: `evaluating` until every asked device answered or the
 * deadline; then `done` (at least one result), `no-results` (none), or `interrupted` (the hub stopped meanwhile);
 * `no-devices` when no device could evaluate when it started. Null (never started) is the state before.
 */
export const FLEET_EVAL_STATES = ['evaluating', 'done', 'no-devices', 'no-results', 'interrupted'] as const;
export type FleetEvalState = (typeof FLEET_EVAL_STATES)[number];

const EVAL_NEXT: Readonly<Record<FleetEvalState | 'none', readonly FleetEvalState[]>> = {
  none: ['evaluating', 'no-devices'],
  evaluating: ['done', 'no-results', 'interrupted'],
  done: [],
  'no-devices': [],
  'no-results': [],
  interrupted: [],
};

function illegal(jobId: string, what: string, from: string, to: string): HubError {
  return new HubError('HUB_ERR_ILLEGAL_TRANSITION', { message: `quantization ${jobId}: ${what}${from} → ${to} is not a transition`, details: { jobId, from, to } });
}

/** Throws HUB_ERR_ILLEGAL_TRANSITION unless the table allows `from` → `to`. */
export function checkQuantizationTransition(jobId: string, from: QuantizationState, to: QuantizationState): void {
  if (!NEXT[from].includes(to)) throw illegal(jobId, '', from, to);
}

/** Throws HUB_ERR_ILLEGAL_TRANSITION unless the evaluation table allows `from` (null: not started) → `to`. */
export function checkFleetEvalTransition(jobId: string, from: FleetEvalState | null, to: FleetEvalState): void {
  if (!EVAL_NEXT[from ?? 'none'].includes(to)) throw illegal(jobId, 'fleet evaluation ', from ?? 'not started', to);
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

/**
 * What became of a device asked to evaluate the int8 file: `asked` until it answers; `evaluated` = its EvalResult
 * counts, `rejected` = its result was nonsense (HUB_ERR_EVAL_RESULT_INVALID), `refused` / `failed` = it answered
 * without one (AGENT_ERR_MODEL_TOO_LARGE with the numbers, AGENT_ERR_NO_DATA, …), `cancelled` = no answer by the end.
 */
export const EVAL_DEVICE_STATES = ['asked', 'evaluated', 'rejected', 'refused', 'failed', 'cancelled'] as const;
export type EvalDeviceState = (typeof EVAL_DEVICE_STATES)[number];
