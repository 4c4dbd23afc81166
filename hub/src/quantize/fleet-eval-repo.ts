/**
 * The fleet evaluation of a job's int8 file in SQLite (migration 009): one row per device asked, and the summary a job
 * record carries — computed from those rows when the job is read, so an evaluation the hub stopped in the middle of
 * still shows what had come in. Accuracy and loss are weighted by each device's example count, bounded as rounds bound
 * federated evaluation (fleetEvalMetrics: no device's claim counts for more than capFactor × the median one).
 */
import { fleetEvalMetrics, type EvalMetrics } from '../rounds/eval-result-check.js';
import type { SqliteDatabase } from '../store/database.js';
import type { EvalDeviceState, FleetEvalState } from './quantization-state.js';

/** A device that answered the evaluation without a result: its code (AGENT_ERR_MODEL_TOO_LARGE, …) and why. */
export interface EvalRefusal {
  deviceId: string;
  code: string | null;
  reason: string | null;
}

/** How the int8 file did on the fleet. */
export interface FleetEvalSummary {
  state: FleetEvalState;
  /** Devices asked to evaluate. */
  devicesAsked: number;
  /** Devices whose EvalResult counts. */
  devices: number;
  /** Examples behind `accuracy` and `loss`. */
  examples: number;
  /** Example-weighted accuracy of the int8 model over the devices that evaluated; null without any. */
  accuracy: number | null;
  loss: number | null;
  /** Devices that refused (with the device's code and reason, e.g. the flash and arena a microcontroller lacks). */
  refused: EvalRefusal[];
  /** When the evaluation stops waiting for results. */
  deadlineAt?: string;
}

export interface EvalDeviceRecord {
  deviceId: string;
  commandId: string;
  state: EvalDeviceState;
  /** HUB_ERR_EVAL_RESULT_INVALID of a rejected result, the device's AGENT_ERR_* of a refusal or failure. */
  reasonCode: string | null;
  reason: string | null;
  exampleCount: number | null;
  accuracy: number | null;
  loss: number | null;
  updatedAt: string;
}

/** The columns a job row gets for its summary (`q` is the quantizations row). */
export const FLEET_EVAL_COLUMNS = `
    (SELECT COUNT(*) FROM quantization_eval_devices e WHERE e.quantization_id = q.id) AS eval_asked,
    (SELECT COUNT(*) FROM quantization_eval_devices e WHERE e.quantization_id = q.id AND e.state = 'evaluated') AS eval_devices,
    (SELECT json_group_array(json_array(e.example_count, e.accuracy, e.loss)) FROM quantization_eval_devices e
      WHERE e.quantization_id = q.id AND e.state = 'evaluated') AS eval_results,
    (SELECT json_group_array(json_object('deviceId', e.device_id, 'code', e.reason_code, 'reason', e.reason) ORDER BY e.device_id)
      FROM quantization_eval_devices e WHERE e.quantization_id = q.id AND e.state = 'refused') AS eval_refused`;

export interface FleetEvalRow {
  eval_selector: string | null;
  eval_state: FleetEvalState | null;
  eval_deadline_at_ms: number | null;
  eval_asked: number;
  eval_devices: number;
  /** JSON [[examples, accuracy, loss], …] of the devices that evaluated. */
  eval_results: string | null;
  eval_refused: string | null;
}

/** The devices' results as weighed into the job's figure (fleetEvalMetrics: claims bounded by the median). */
function evalSamples(json: string | null): EvalMetrics[] {
  try {
    const parsed: unknown = JSON.parse(json ?? '[]');
    if (!Array.isArray(parsed)) return [];
    return parsed.flatMap((r: unknown) => (Array.isArray(r) && r.every((v) => typeof v === 'number') ? [{ examples: r[0], accuracy: r[1], loss: r[2] }] : []));
  } catch {
    return [];
  }
}

function refusals(json: string | null): EvalRefusal[] {
  try {
    const parsed: unknown = JSON.parse(json ?? '[]');
    return Array.isArray(parsed) ? (parsed as EvalRefusal[]) : [];
  } catch {
    return [];
  }
}

/** The summary of a job row; undefined before its evaluation started (or when it does not evaluate). */
export function fleetEvalOf(r: FleetEvalRow): FleetEvalSummary | undefined {
  if (r.eval_state === null) return undefined;
  const fleet = fleetEvalMetrics(evalSamples(r.eval_results));
  return {
    state: r.eval_state, devicesAsked: r.eval_asked, devices: r.eval_devices, examples: fleet?.examples ?? 0,
    accuracy: fleet?.accuracy ?? null, loss: fleet?.loss ?? null, refused: refusals(r.eval_refused),
    ...(r.eval_deadline_at_ms !== null ? { deadlineAt: new Date(r.eval_deadline_at_ms).toISOString() } : {}),
  };
}

interface EvalDeviceRow {
  device_id: string; command_id: string; state: EvalDeviceState; reason_code: string | null; reason: string | null;
  example_count: number | null; accuracy: number | null; loss: number | null; updated_at_ms: number;
}

const toEvalDevice = (r: EvalDeviceRow): EvalDeviceRecord => ({
  deviceId: r.device_id, commandId: r.command_id, state: r.state, reasonCode: r.reason_code, reason: r.reason,
  exampleCount: r.example_count, accuracy: r.accuracy, loss: r.loss, updatedAt: new Date(r.updated_at_ms).toISOString(),
});

/** What a device's answer records: a result's metrics, or why there is none. */
export interface EvalAnswerDetail {
  reasonCode?: string | null;
  reason?: string | null;
  exampleCount?: number | null;
  accuracy?: number | null;
  loss?: number | null;
}

export type FleetEvalRepo = ReturnType<typeof createFleetEvalRepo>;

export function createFleetEvalRepo(db: SqliteDatabase) {
  const q = {
    insert: db.prepare(`INSERT INTO quantization_eval_devices (quantization_id, device_id, command_id, state, updated_at_ms)
      VALUES (?, ?, ?, 'asked', ?)`),
    devices: db.prepare<[string], EvalDeviceRow>('SELECT * FROM quantization_eval_devices WHERE quantization_id = ? ORDER BY device_id'),
    device: db.prepare<[string, string], EvalDeviceRow>('SELECT * FROM quantization_eval_devices WHERE quantization_id = ? AND device_id = ?'),
    settle: db.prepare(`UPDATE quantization_eval_devices SET state = ?, reason_code = ?, reason = ?, example_count = ?, accuracy = ?, loss = ?,
      updated_at_ms = ? WHERE quantization_id = ? AND device_id = ? AND state = 'asked'`),
    busy: db.prepare<[], { device_id: string }>(`SELECT x.device_id FROM quantization_eval_devices x
      JOIN quantizations q ON q.id = x.quantization_id WHERE q.state = 'evaluating' AND x.state = 'asked'`),
  };
  return {
    insertDevice(jobId: string, deviceId: string, commandId: string, nowMs: number): void {
      q.insert.run(jobId, deviceId, commandId, nowMs);
    },
    devices: (jobId: string): EvalDeviceRecord[] => q.devices.all(jobId).map(toEvalDevice),
    device: (jobId: string, deviceId: string): EvalDeviceRecord | undefined => {
      const row = q.device.get(jobId, deviceId);
      return row && toEvalDevice(row);
    },
    /** Records a device's answer once; false when it had answered already. */
    settleDevice(jobId: string, deviceId: string, state: Exclude<EvalDeviceState, 'asked'>, d: EvalAnswerDetail, nowMs: number): boolean {
      return q.settle.run(
        state, d.reasonCode ?? null, d.reason ?? null, d.exampleCount ?? null, d.accuracy ?? null, d.loss ?? null, nowMs, jobId, deviceId,
      ).changes === 1;
    },
    /** Devices an evaluating job still waits for. */
    busyDevices: (): Set<string> => new Set(q.busy.all().map((r) => r.device_id)),
  };
}
