/** Quantization jobs and the devices asked to calibrate for them, in SQLite (migrations 007, 009). */
import type { SqliteDatabase } from '../store/database.js';
import type { Failure } from '../rounds/round-transitions.js';
import { jsonColumn } from '../store/row-values.js';
import { FLEET_EVAL_COLUMNS, fleetEvalOf, type FleetEvalRow, type FleetEvalSummary } from './fleet-eval-repo.js';
import {
  checkFleetEvalTransition, checkQuantizationTransition, type CalibrationDeviceState, type FleetEvalState, type QuantizationState,
} from './quantization-state.js';

/** Where the activation statistics come from. */
export type CalibrationSource = 'fleet' | 'dataset';

/** A job's settings, resolved from the request (defaults filled in). */
export interface QuantizationConfig {
  /** Label selector of the devices asked (fleet calibration). */
  selector: string;
  /** Fewest valid device reports the job builds with (fleet calibration). */
  minDevices: number;
  /** Most devices asked; null = every eligible device. */
  maxDevices: number | null;
  /** How long the job waits for device reports, in seconds. */
  deadlineSec: number;
  /** Percentile of |activation| clipped to (100 = exact min/max). */
  percentile: number;
  /** Most histogram bins per tensor. */
  histogramBins: number;
  /** Most examples per device (or from the data set); 0 = all. */
  maxExamplesPerDevice: number;
}

/** The [min, max] an int8 model quantizes one activation tensor with. */
export interface TensorRange {
  name: string;
  min: number;
  max: number;
}

/** The .tflite a done job produced, in the blob store. */
export interface QuantizationArtifact {
  sha256: string;
  sizeBytes: number;
  format: 'tflite';
  encoding: 'int8';
}

export interface QuantizationRecord extends QuantizationConfig {
  id: string;
  modelId: string;
  versionId: string;
  /** The version's number. */
  version: number;
  calibration: CalibrationSource;
  datasetId?: string;
  datasetName?: string;
  state: QuantizationState;
  /** HUB_ERR_* code of `error`: branch on it, not on the text. */
  errorCode?: string;
  error?: string;
  devicesAsked: number;
  devicesReported: number;
  devicesRejected: number;
  /** Examples behind the merged statistics. */
  exampleCount: number;
  ranges?: TensorRange[];
  artifact?: QuantizationArtifact;
  /** Fleet calibration: when the job stops waiting for reports. */
  deadlineAt?: string;
  createdAt: string;
  finishedAt?: string;
  /** The devices asked to evaluate the built int8 file (their label selector); null = the job does not evaluate. */
  evaluate: { selector: string } | null;
  /** How the int8 file did on the fleet, once its evaluation started. */
  fleetEval?: FleetEvalSummary;
}

export interface CalibrationDeviceRecord {
  deviceId: string;
  commandId: string;
  state: CalibrationDeviceState;
  /** HUB_ERR_* of a rejected report, the device's AGENT_ERR_* of a refusal or failure. */
  reasonCode: string | null;
  reason: string | null;
  exampleCount: number | null;
  updatedAt: string;
}

interface JobRow extends FleetEvalRow {
  id: string; model_id: string; version_id: string; version: number; calibration: CalibrationSource; dataset_id: string | null;
  dataset_name: string | null; config: string; state: QuantizationState; error: string | null; error_code: string | null;
  example_count: number; ranges: string | null; artifact_sha256: string | null; artifact_size_bytes: number | null;
  deadline_at_ms: number | null; created_at_ms: number; finished_at_ms: number | null;
  devices_asked: number; devices_reported: number; devices_rejected: number;
}
interface DeviceRow {
  device_id: string; command_id: string; state: CalibrationDeviceState; reason_code: string | null; reason: string | null;
  example_count: number | null; updated_at_ms: number;
}

const JOB_SELECT = `
  SELECT q.*, v.version AS version, d.name AS dataset_name,
    (SELECT COUNT(*) FROM quantization_devices x WHERE x.quantization_id = q.id) AS devices_asked,
    (SELECT COUNT(*) FROM quantization_devices x WHERE x.quantization_id = q.id AND x.state = 'reported') AS devices_reported,
    (SELECT COUNT(*) FROM quantization_devices x WHERE x.quantization_id = q.id AND x.state = 'rejected') AS devices_rejected,${FLEET_EVAL_COLUMNS}
  FROM quantizations q
  JOIN model_versions v ON v.id = q.version_id
  LEFT JOIN datasets d ON d.id = q.dataset_id`;

const iso = (ms: number) => new Date(ms).toISOString();

function toJob(r: JobRow): QuantizationRecord {
  // A row edited by hand must not break a listing: unreadable JSON reads as empty.
  const config = jsonColumn<QuantizationConfig>(r.config, 'config', []) ?? ({} as QuantizationConfig);
  const ranges = jsonColumn<TensorRange[]>(r.ranges, 'ranges', []);
  const fleetEval = fleetEvalOf(r);
  return {
    id: r.id, modelId: r.model_id, versionId: r.version_id, version: r.version, calibration: r.calibration,
    ...(r.dataset_id ? { datasetId: r.dataset_id } : {}), ...(r.dataset_name ? { datasetName: r.dataset_name } : {}),
    selector: config.selector ?? '', minDevices: config.minDevices ?? 1, maxDevices: config.maxDevices ?? null,
    deadlineSec: config.deadlineSec ?? 0, percentile: config.percentile ?? 100, histogramBins: config.histogramBins ?? 0,
    maxExamplesPerDevice: config.maxExamplesPerDevice ?? 0,
    state: r.state, ...(r.error_code ? { errorCode: r.error_code } : {}), ...(r.error ? { error: r.error } : {}),
    devicesAsked: r.devices_asked, devicesReported: r.devices_reported, devicesRejected: r.devices_rejected,
    exampleCount: r.example_count, ...(Array.isArray(ranges) ? { ranges } : {}),
    ...(r.artifact_sha256
      ? { artifact: { sha256: r.artifact_sha256, sizeBytes: r.artifact_size_bytes ?? 0, format: 'tflite' as const, encoding: 'int8' as const } }
      : {}),
    ...(r.deadline_at_ms !== null ? { deadlineAt: iso(r.deadline_at_ms) } : {}),
    createdAt: iso(r.created_at_ms), ...(r.finished_at_ms !== null ? { finishedAt: iso(r.finished_at_ms) } : {}),
    evaluate: r.eval_selector === null ? null : { selector: r.eval_selector }, ...(fleetEval ? { fleetEval } : {}),
  };
}

const toDevice = (r: DeviceRow): CalibrationDeviceRecord => ({
  deviceId: r.device_id, commandId: r.command_id, state: r.state, reasonCode: r.reason_code, reason: r.reason,
  exampleCount: r.example_count, updatedAt: iso(r.updated_at_ms),
});

export interface NewQuantization {
  id: string;
  modelId: string;
  versionId: string;
  calibration: CalibrationSource;
  datasetId: string | null;
  config: QuantizationConfig;
  /** Label selector of the devices asked to evaluate the int8 file; null = no fleet evaluation. */
  evalSelector: string | null;
  deadlineAtMs: number | null;
  nowMs: number;
}

export type QuantizationRepo = ReturnType<typeof createQuantizationRepo>;

export function createQuantizationRepo(db: SqliteDatabase) {
  const q = {
    insert: db.prepare(`INSERT INTO quantizations (id, model_id, version_id, calibration, dataset_id, config, eval_selector, state,
      deadline_at_ms, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 'calibrating', ?, ?, ?)`),
    job: db.prepare<[string], JobRow>(`${JOB_SELECT} WHERE q.id = ?`),
    ofVersion: db.prepare<[string], JobRow>(`${JOB_SELECT} WHERE q.version_id = ? ORDER BY q.created_at_ms DESC, q.rowid DESC`),
    latestDone: db.prepare<[string], JobRow>(`${JOB_SELECT} WHERE q.version_id = ? AND q.state = 'done'
      ORDER BY q.finished_at_ms DESC, q.rowid DESC LIMIT 1`),
    inStates: db.prepare<[string, string], JobRow>(`${JOB_SELECT} WHERE q.state IN (?, ?) ORDER BY q.created_at_ms`),
    setEval: db.prepare('UPDATE quantizations SET eval_state = ?, eval_deadline_at_ms = COALESCE(?, eval_deadline_at_ms), updated_at_ms = ? WHERE id = ?'),
    setState: db.prepare(`UPDATE quantizations SET state = ?, error = ?, error_code = ?, updated_at_ms = ?,
      finished_at_ms = CASE WHEN ? IN ('done', 'failed') THEN ? ELSE finished_at_ms END WHERE id = ?`),
    setResult: db.prepare(`UPDATE quantizations SET example_count = ?, ranges = ?, artifact_sha256 = ?, artifact_size_bytes = ?,
      updated_at_ms = ? WHERE id = ?`),
    insertDevice: db.prepare(`INSERT INTO quantization_devices (quantization_id, device_id, command_id, state, updated_at_ms)
      VALUES (?, ?, ?, 'asked', ?)`),
    devices: db.prepare<[string], DeviceRow>('SELECT * FROM quantization_devices WHERE quantization_id = ? ORDER BY device_id'),
    device: db.prepare<[string, string], DeviceRow>('SELECT * FROM quantization_devices WHERE quantization_id = ? AND device_id = ?'),
    settleDevice: db.prepare(`UPDATE quantization_devices SET state = ?, reason_code = ?, reason = ?, example_count = ?, updated_at_ms = ?
      WHERE quantization_id = ? AND device_id = ? AND state = 'asked'`),
    busy: db.prepare<[], { device_id: string }>(`SELECT x.device_id FROM quantization_devices x JOIN quantizations q ON q.id = x.quantization_id
      WHERE q.state = 'calibrating' AND x.state = 'asked'`),
  };

  const job = (id: string): QuantizationRecord | undefined => {
    const row = q.job.get(id);
    return row && toJob(row);
  };

  return {
    insert(n: NewQuantization): void {
      q.insert.run(n.id, n.modelId, n.versionId, n.calibration, n.datasetId, JSON.stringify(n.config), n.evalSelector, n.deadlineAtMs, n.nowMs, n.nowMs);
    },
    job,
    ofVersion: (versionId: string): QuantizationRecord[] => q.ofVersion.all(versionId).map(toJob),
    latestDone: (versionId: string): QuantizationRecord | undefined => {
      const row = q.latestDone.get(versionId);
      return row && toJob(row);
    },
    /** Jobs a hub left calibrating or building. */
    unfinished: (): QuantizationRecord[] => q.inStates.all('calibrating', 'building').map(toJob),
    /** Jobs a hub left evaluating (their int8 file is stored). */
    evaluating: (): QuantizationRecord[] => q.inStates.all('evaluating', 'evaluating').map(toJob),
    /**
     * Moves a job to `to` (with why, when it fails), checked against the state table (HUB_ERR_ILLEGAL_TRANSITION
     * and nothing written when it says no). Joins the caller's transaction.
     */
    move(id: string, to: QuantizationState, nowMs: number, failure?: Failure): QuantizationRecord {
      const current = job(id);
      if (!current) throw new Error(`no quantization ${id}`);
      checkQuantizationTransition(id, current.state, to);
      q.setState.run(to, failure?.message ?? null, failure?.code ?? null, nowMs, to, nowMs, id);
      return job(id)!;
    },
    /**
     * Moves a job's fleet evaluation to `to` (with its deadline when it starts), checked against the evaluation table
     * (HUB_ERR_ILLEGAL_TRANSITION and nothing written when it says no). Joins the caller's transaction.
     */
    moveEval(id: string, to: FleetEvalState, nowMs: number, deadlineAtMs: number | null = null): void {
      const current = job(id);
      if (!current) throw new Error(`no quantization ${id}`);
      checkFleetEvalTransition(id, current.fleetEval?.state ?? null, to);
      q.setEval.run(to, deadlineAtMs, nowMs, id);
    },
    setResult(id: string, r: { exampleCount: number; ranges: TensorRange[]; artifact: { sha256: string; sizeBytes: number } }, nowMs: number): void {
      q.setResult.run(r.exampleCount, JSON.stringify(r.ranges), r.artifact.sha256, r.artifact.sizeBytes, nowMs, id);
    },
    insertDevice(jobId: string, deviceId: string, commandId: string, nowMs: number): void {
      q.insertDevice.run(jobId, deviceId, commandId, nowMs);
    },
    devices: (jobId: string): CalibrationDeviceRecord[] => q.devices.all(jobId).map(toDevice),
    device: (jobId: string, deviceId: string): CalibrationDeviceRecord | undefined => {
      const row = q.device.get(jobId, deviceId);
      return row && toDevice(row);
    },
    /** Records a device's answer once; false when it had answered already. */
    settleDevice(
      jobId: string, deviceId: string, state: Exclude<CalibrationDeviceState, 'asked'>,
      detail: { reasonCode?: string | null; reason?: string | null; exampleCount?: number | null }, nowMs: number,
    ): boolean {
      return q.settleDevice.run(state, detail.reasonCode ?? null, detail.reason ?? null, detail.exampleCount ?? null, nowMs, jobId, deviceId).changes === 1;
    },
    /** Devices a calibrating job still waits for: not asked again by another job. */
    busyDevices: (): Set<string> => new Set(q.busy.all().map((r) => r.device_id)),
  };
}
