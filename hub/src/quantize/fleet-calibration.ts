/**
 * Federated calibration's side of the fleet (issue 9 item 2): which devices may calibrate now, and the CalibrateTask
 * each is sent. A device may calibrate when it matches the job's selector, fleet liveness says it is online, it can
 * run the float model (not `int8Only`: it would need the int8 model this job is about to build), and no round or
 * other calibration holds it. Only the statistics come back; no example leaves a device.
 */
import { randomUUID } from 'node:crypto';
import type { CommandProps, ModelRefProps } from '@fedfleet/proto';
import type { DeviceCommands } from '../commands/device-commands.js';
import { HubError } from '../errors.js';
import type { DeviceRecord, DeviceRepo } from '../fleet/device-repo.js';
import { parseSelector } from '../fleet/label-selector.js';
import type { DevicePresence } from '../fleet/liveness.js';
import { selectParticipants } from '../rounds/selection.js';
import type { QuantizationConfig } from './quantization-repo.js';

/** The owner name of calibration and evaluation commands at the commands capability (keyed by job id). */
export const QUANTIZE_OWNER = 'quantize';

export interface CalibratorDeps {
  devices: Pick<DeviceRepo, 'list'>;
  presence: DevicePresence;
  /** Devices a round or a calibrating job holds now. */
  busyDevices: () => ReadonlySet<string>;
}

/**
 * The devices a fleet calibration asks: the eligible ones, a seeded uniform sample of `maxDevices` when there are
 * more (rounds' sampler).
 * @throws HubError HUB_ERR_QUANTIZATION_NO_DEVICES when fewer than `minDevices` are eligible now (details: how many).
 */
export function pickCalibrators(deps: CalibratorDeps, config: QuantizationConfig, seed: number): DeviceRecord[] {
  const { matching, eligible } = idleDevices(deps, config.selector, (d) => !d.profile.int8Only);
  if (eligible.length < config.minDevices) {
    const which = config.selector.trim() === '' ? 'enrolled devices' : `devices matching ${JSON.stringify(config.selector)}`;
    throw new HubError('HUB_ERR_QUANTIZATION_NO_DEVICES', {
      message: `${eligible.length} of the ${matching.length} ${which} can calibrate now (online, not int8-only, not busy); ${config.minDevices} needed`,
      details: { matching: matching.length, eligible: eligible.length, needed: config.minDevices },
    });
  }
  return sampleDevices(eligible, config.maxDevices, seed);
}

/**
 * The devices matching `selector`, and of those the ones a job may ask now: online (fleet liveness), held by no round
 * or other job, and able to run what it sends (`canRun`).
 */
export function idleDevices(
  deps: CalibratorDeps, selector: string, canRun: (device: DeviceRecord) => boolean,
): { matching: DeviceRecord[]; eligible: DeviceRecord[] } {
  const matching = deps.devices.list({ selector: parseSelector(selector) }).devices;
  const busy = deps.busyDevices();
  return { matching, eligible: matching.filter((d) => deps.presence.isOnline(d.id) && canRun(d) && !busy.has(d.id)) };
}

/** At most `maxDevices` of `eligible` (null: all), a seeded uniform sample when there are more (rounds' sampler). */
export function sampleDevices(eligible: DeviceRecord[], maxDevices: number | null, seed: number): DeviceRecord[] {
  if (maxDevices === null || eligible.length <= maxDevices) return eligible;
  const { selected } = selectParticipants(eligible, { clients: maxDevices, overSelect: 1, seed, roundNumber: 0 });
  const byId = new Map(eligible.map((d) => [d.id, d]));
  return selected.map((id) => byId.get(id)!);
}

/**
 * After the transaction that marked `cancelled` the devices a job still waited for (calibrating or evaluating): the
 * job's commands settled, and each of those devices told to stop.
 */
export function cancelAsked(
  commands: Pick<DeviceCommands, 'settleAll' | 'notify'>, jobId: string, asked: readonly { deviceId: string; commandId: string }[], reason: string,
): void {
  commands.settleAll(QUANTIZE_OWNER, jobId);
  for (const d of asked) void commands.notify(d.deviceId, { commandId: randomUUID(), cancel: { targetCommandId: d.commandId, reason } });
}

/** The CalibrateTask of one device: the same for every send of its command id (first send, re-sends on reconnect). */
export function calibrateCommand(
  commandId: string, jobId: string, model: ModelRefProps, deadlineAtMs: number, config: QuantizationConfig,
): CommandProps & { commandId: string } {
  return {
    commandId,
    calibrate: { jobId, model, deadlineAtMs, histogramBins: config.histogramBins, maxExamples: config.maxExamplesPerDevice },
  };
}
