/**
 * Rollouts, their waves and their device targets in SQLite (migration 010). State columns are written only through
 * rollout-transitions.ts, which checks them against rollout-state.ts; the other setters here change what is not a
 * state (a target's command, deadline, reported counts).
 */
import type { Encoding, ModelRefProps } from '@fedfleet/proto';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../store/database.js';
import { jsonColumn } from '../store/row-values.js';
import type { GateConfig, RolloutConfig, RolloutFormat, WaveConfig } from './rollout-request.js';
import type { RolloutState, TargetState, WaveState } from './rollout-state.js';

/** A SelfTest as stored and shown (proto SelfTest with numbers). */
export interface SelfTestRecord { examples: number; accuracy: number; p50Ms: number; p95Ms: number }
/** ShadowStats as stored and shown. */
export interface ShadowRecord { inferences: number; agreements: number; labelled: number; championCorrect: number; challengerCorrect: number }

export interface RolloutBundle {
  manifest: Uint8Array;
  signature: Uint8Array;
  /** The payload the devices fetch over fetch/chunk. */
  payload: ModelRefProps;
}

export interface RolloutRecord {
  id: string;
  modelId: string;
  versionId: string;
  config: RolloutConfig;
  bundle: RolloutBundle;
  state: RolloutState;
  /** 1-based; 0 = no wave started yet. */
  currentWave: number;
  errorCode: string | null;
  reason: string | null;
  createdAtMs: number;
  updatedAtMs: number;
  finishedAtMs: number | null;
}

export interface WaveRecord {
  rolloutId: string;
  wave: number;
  state: WaveState;
  shadowVerdict: 'promoted' | 'worse' | null;
  startedAtMs: number | null;
  soakEndsAtMs: number | null;
  finishedAtMs: number | null;
}

export type TargetMode = 'activate' | 'shadow';
export type CommandKind = 'deploy' | 'rollback';

export interface TargetRecord {
  rolloutId: string;
  deviceId: string;
  /** 1-based; 0 = in no wave (skipped at creation, or already serving the version). */
  wave: number;
  position: number;
  mode: TargetMode;
  state: TargetState;
  verdict: 'healthy' | 'failed' | null;
  changed: boolean;
  commandId: string | null;
  commandKind: CommandKind | null;
  previousVersionId: string | null;
  selfTest: SelfTestRecord | null;
  baseline: SelfTestRecord | null;
  shadow: ShadowRecord | null;
  errorCode: string | null;
  reason: string | null;
  attempts: number;
  deadlineAtMs: number | null;
  retryAtMs: number | null;
  updatedAtMs: number;
}

/** The columns of a target that are not its identity. */
export type TargetFields = Omit<TargetRecord, 'rolloutId' | 'deviceId' | 'updatedAtMs'>;

interface RolloutRow {
  id: string; model_id: string; version_id: string; format: RolloutFormat; encoding: Encoding; selector: string; waves: string; gate: string;
  options: string; manifest: Buffer; signature: Buffer; payload: string; state: RolloutState; current_wave: number; error_code: string | null;
  reason: string | null; created_at_ms: number; updated_at_ms: number; finished_at_ms: number | null;
}
interface WaveRow {
  rollout_id: string; wave: number; state: WaveState; shadow_verdict: 'promoted' | 'worse' | null; started_at_ms: number | null;
  soak_ends_at_ms: number | null; finished_at_ms: number | null;
}
interface TargetRow {
  rollout_id: string; device_id: string; wave: number; position: number; mode: TargetMode; state: TargetState; verdict: 'healthy' | 'failed' | null;
  changed: number; command_id: string | null; command_kind: CommandKind | null; previous_version_id: string | null; self_test: string | null;
  baseline: string | null; shadow: string | null; error_code: string | null; reason: string | null; attempts: number;
  deadline_at_ms: number | null; retry_at_ms: number | null; updated_at_ms: number;
}

/** Targets of one wave in one state with one verdict. */
export interface TallyRow { wave: number; state: TargetState; verdict: 'healthy' | 'failed' | null; n: number }

function toRollout(r: RolloutRow): RolloutRecord {
  // A row edited by hand must not break a listing: unreadable JSON reads as empty.
  const problems: string[] = [];
  const options = jsonColumn<{ deviceTimeoutSec: number; continuous: boolean }>(r.options, 'options', problems);
  return {
    id: r.id, modelId: r.model_id, versionId: r.version_id,
    config: {
      format: r.format, encoding: r.encoding, selector: r.selector,
      waves: jsonColumn<WaveConfig[]>(r.waves, 'waves', problems) ?? [],
      gate: jsonColumn<GateConfig>(r.gate, 'gate', problems) ?? { maxAccuracyDropPts: 0, maxLatencyFactor: 1 },
      deviceTimeoutSec: options?.deviceTimeoutSec ?? 0, continuous: options?.continuous ?? false,
    },
    bundle: {
      manifest: new Uint8Array(r.manifest), signature: new Uint8Array(r.signature),
      payload: jsonColumn<ModelRefProps>(r.payload, 'payload', problems) ?? {},
    },
    state: r.state, currentWave: r.current_wave, errorCode: r.error_code, reason: r.reason,
    createdAtMs: r.created_at_ms, updatedAtMs: r.updated_at_ms, finishedAtMs: r.finished_at_ms,
  };
}

const toWave = (r: WaveRow): WaveRecord => ({
  rolloutId: r.rollout_id, wave: r.wave, state: r.state, shadowVerdict: r.shadow_verdict, startedAtMs: r.started_at_ms,
  soakEndsAtMs: r.soak_ends_at_ms, finishedAtMs: r.finished_at_ms,
});

const toTarget = (r: TargetRow): TargetRecord => ({
  rolloutId: r.rollout_id, deviceId: r.device_id, wave: r.wave, position: r.position, mode: r.mode, state: r.state, verdict: r.verdict,
  changed: r.changed === 1, commandId: r.command_id, commandKind: r.command_kind, previousVersionId: r.previous_version_id,
  selfTest: jsonColumn<SelfTestRecord>(r.self_test, 'self_test', []) ?? null, baseline: jsonColumn<SelfTestRecord>(r.baseline, 'baseline', []) ?? null,
  shadow: jsonColumn<ShadowRecord>(r.shadow, 'shadow', []) ?? null, errorCode: r.error_code, reason: r.reason, attempts: r.attempts,
  deadlineAtMs: r.deadline_at_ms, retryAtMs: r.retry_at_ms, updatedAtMs: r.updated_at_ms,
});

/** Column of each target field, and how it is stored. */
const TARGET_COLUMNS: Record<keyof TargetFields, { column: string; store: (value: never) => unknown }> = {
  wave: { column: 'wave', store: (v: number) => v },
  position: { column: 'position', store: (v: number) => v },
  mode: { column: 'mode', store: (v: TargetMode) => v },
  state: { column: 'state', store: (v: TargetState) => v },
  verdict: { column: 'verdict', store: (v: string | null) => v },
  changed: { column: 'changed', store: (v: boolean) => (v ? 1 : 0) },
  commandId: { column: 'command_id', store: (v: string | null) => v },
  commandKind: { column: 'command_kind', store: (v: CommandKind | null) => v },
  previousVersionId: { column: 'previous_version_id', store: (v: string | null) => v },
  selfTest: { column: 'self_test', store: (v: SelfTestRecord | null) => (v ? JSON.stringify(v) : null) },
  baseline: { column: 'baseline', store: (v: SelfTestRecord | null) => (v ? JSON.stringify(v) : null) },
  shadow: { column: 'shadow', store: (v: ShadowRecord | null) => (v ? JSON.stringify(v) : null) },
  errorCode: { column: 'error_code', store: (v: string | null) => v },
  reason: { column: 'reason', store: (v: string | null) => v },
  attempts: { column: 'attempts', store: (v: number) => v },
  deadlineAtMs: { column: 'deadline_at_ms', store: (v: number | null) => v },
  retryAtMs: { column: 'retry_at_ms', store: (v: number | null) => v },
};

export interface NewRollout {
  id: string;
  modelId: string;
  versionId: string;
  config: RolloutConfig;
  bundle: RolloutBundle;
  nowMs: number;
}

export type RolloutRepo = ReturnType<typeof createRolloutRepo>;

export function createRolloutRepo(db: SqliteDatabase) {
  const q = {
    insert: db.prepare(`INSERT INTO rollouts (id, model_id, version_id, format, encoding, selector, waves, gate, options, manifest, signature,
      payload, state, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)`),
    insertWave: db.prepare(`INSERT INTO rollout_waves (rollout_id, wave, state) VALUES (?, ?, 'pending')`),
    insertTarget: db.prepare(`INSERT INTO rollout_targets (rollout_id, device_id, wave, position, mode, state, verdict, error_code, reason,
      updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    rollout: db.prepare<[string], RolloutRow>('SELECT * FROM rollouts WHERE id = ?'),
    list: db.prepare<[number], RolloutRow>('SELECT * FROM rollouts ORDER BY created_at_ms DESC, rowid DESC LIMIT ?'),
    listInState: db.prepare<[string, number], RolloutRow>('SELECT * FROM rollouts WHERE state = ? ORDER BY created_at_ms DESC, rowid DESC LIMIT ?'),
    inStates: db.prepare<[string, string, string], RolloutRow>('SELECT * FROM rollouts WHERE state IN (?, ?, ?) ORDER BY created_at_ms, rowid'),
    ofModel: db.prepare<[string], RolloutRow>('SELECT * FROM rollouts WHERE model_id = ? ORDER BY created_at_ms, rowid'),
    setRollout: db.prepare(`UPDATE rollouts SET state = ?, current_wave = ?, error_code = ?, reason = ?, updated_at_ms = ?,
      finished_at_ms = CASE WHEN ? IN ('completed', 'aborted', 'superseded') THEN ? ELSE finished_at_ms END WHERE id = ?`),
    waves: db.prepare<[string], WaveRow>('SELECT * FROM rollout_waves WHERE rollout_id = ? ORDER BY wave'),
    wave: db.prepare<[string, number], WaveRow>('SELECT * FROM rollout_waves WHERE rollout_id = ? AND wave = ?'),
    setWave: db.prepare(`UPDATE rollout_waves SET state = ?, shadow_verdict = ?, started_at_ms = ?, soak_ends_at_ms = ?, finished_at_ms = ?
      WHERE rollout_id = ? AND wave = ?`),
    targets: db.prepare<[string], TargetRow>('SELECT * FROM rollout_targets WHERE rollout_id = ? ORDER BY position'),
    target: db.prepare<[string, string], TargetRow>('SELECT * FROM rollout_targets WHERE rollout_id = ? AND device_id = ?'),
    byCommand: db.prepare<[string], TargetRow>('SELECT * FROM rollout_targets WHERE command_id = ?'),
    ofDevice: db.prepare<[string], TargetRow>(`SELECT t.* FROM rollout_targets t JOIN rollouts r ON r.id = t.rollout_id
      WHERE t.device_id = ? ORDER BY r.created_at_ms, r.rowid`),
    withCommand: db.prepare<[], TargetRow>('SELECT * FROM rollout_targets WHERE command_id IS NOT NULL'),
    nextTargetDue: db.prepare<[], { due: number | null }>(`SELECT MIN(MIN(COALESCE(deadline_at_ms, 9e15), COALESCE(retry_at_ms, 9e15))) AS due
      FROM rollout_targets WHERE deadline_at_ms IS NOT NULL OR retry_at_ms IS NOT NULL`),
    nextSoakDue: db.prepare<[], { due: number | null }>(`SELECT MIN(soak_ends_at_ms) AS due FROM rollout_waves WHERE state IN ('soaking', 'shadowing')`),
    dueTargets: db.prepare<[number, number], TargetRow>(`SELECT * FROM rollout_targets WHERE deadline_at_ms <= ? OR retry_at_ms <= ?
      ORDER BY rollout_id, position`),
    tally: db.prepare<[string], TallyRow>(`SELECT wave, state, verdict, COUNT(*) AS n FROM rollout_targets WHERE rollout_id = ?
      GROUP BY wave, state, verdict`),
    maxPosition: db.prepare<[string], { position: number | null }>('SELECT MAX(position) AS position FROM rollout_targets WHERE rollout_id = ?'),
  };
  const patchStatements = new Map<string, Statement<unknown[]>>();

  const rollout = (id: string): RolloutRecord | undefined => {
    const row = q.rollout.get(id);
    return row && toRollout(row);
  };
  const target = (rolloutId: string, deviceId: string): TargetRecord | undefined => {
    const row = q.target.get(rolloutId, deviceId);
    return row && toTarget(row);
  };

  return {
    insert(n: NewRollout): void {
      const { config: c } = n;
      q.insert.run(n.id, n.modelId, n.versionId, c.format, c.encoding, c.selector, JSON.stringify(c.waves), JSON.stringify(c.gate),
        JSON.stringify({ deviceTimeoutSec: c.deviceTimeoutSec, continuous: c.continuous }), Buffer.from(n.bundle.manifest),
        Buffer.from(n.bundle.signature), JSON.stringify(n.bundle.payload), n.nowMs, n.nowMs);
      for (let wave = 1; wave <= c.waves.length; wave++) q.insertWave.run(n.id, wave);
    },
    insertTarget(t: Pick<TargetRecord, 'rolloutId' | 'deviceId' | 'wave' | 'position' | 'mode' | 'state' | 'verdict' | 'errorCode' | 'reason'>, nowMs: number): void {
      q.insertTarget.run(t.rolloutId, t.deviceId, t.wave, t.position, t.mode, t.state, t.verdict, t.errorCode, t.reason, nowMs);
    },
    rollout,
    /** The newest `limit` rollouts (in `state`, when given), newest first. */
    list: (limit: number, state?: RolloutState): RolloutRecord[] => (state ? q.listInState.all(state, limit) : q.list.all(limit)).map(toRollout),
    /** Rollouts that may still act: running, paused, or completed (continuous deployment, rollbacks in flight). */
    live: (): RolloutRecord[] => q.inStates.all('running', 'paused', 'completed').map(toRollout),
    ofModel: (modelId: string): RolloutRecord[] => q.ofModel.all(modelId).map(toRollout),
    /** Writes a rollout's state columns; rollout-transitions.ts checked the change. */
    setRollout(id: string, s: Pick<RolloutRecord, 'state' | 'currentWave' | 'errorCode' | 'reason'>, nowMs: number): void {
      q.setRollout.run(s.state, s.currentWave, s.errorCode, s.reason, nowMs, s.state, nowMs, id);
    },
    waves: (rolloutId: string): WaveRecord[] => q.waves.all(rolloutId).map(toWave),
    wave: (rolloutId: string, wave: number): WaveRecord | undefined => {
      const row = q.wave.get(rolloutId, wave);
      return row && toWave(row);
    },
    setWave(w: WaveRecord): void {
      q.setWave.run(w.state, w.shadowVerdict, w.startedAtMs, w.soakEndsAtMs, w.finishedAtMs, w.rolloutId, w.wave);
    },
    targets: (rolloutId: string): TargetRecord[] => q.targets.all(rolloutId).map(toTarget),
    target,
    byCommand: (commandId: string): TargetRecord | undefined => {
      const row = q.byCommand.get(commandId);
      return row && toTarget(row);
    },
    /** A device's targets in every rollout, oldest rollout first. */
    ofDevice: (deviceId: string): TargetRecord[] => q.ofDevice.all(deviceId).map(toTarget),
    /** Targets whose device owes an answer to a command (re-owed after a restart). */
    withCommand: (): TargetRecord[] => q.withCommand.all().map(toTarget),
    /** The earliest deadline, retry or soak end, if any. */
    nextDueMs(): number | undefined {
      const due = Math.min(q.nextTargetDue.get()?.due ?? Infinity, q.nextSoakDue.get()?.due ?? Infinity);
      return Number.isFinite(due) && due < 9e15 ? due : undefined;
    },
    dueTargets: (nowMs: number): TargetRecord[] => q.dueTargets.all(nowMs, nowMs).map(toTarget),
    /** Targets counted by wave, state and verdict. */
    tally: (rolloutId: string): TallyRow[] => q.tally.all(rolloutId),
    nextPosition: (rolloutId: string): number => (q.maxPosition.get(rolloutId)?.position ?? -1) + 1,
    /** Writes the given fields of a target (never its state: rollout-transitions.ts moves states). */
    patchTarget(rolloutId: string, deviceId: string, patch: Partial<TargetFields>, nowMs: number): TargetRecord {
      const keys = (Object.keys(patch) as (keyof TargetFields)[]).filter((k) => patch[k] !== undefined).sort();
      const sqlKey = keys.join(',');
      let statement = patchStatements.get(sqlKey);
      if (!statement) {
        const sets = keys.map((k) => `${TARGET_COLUMNS[k].column} = ?`);
        statement = db.prepare<unknown[]>(`UPDATE rollout_targets SET ${[...sets, 'updated_at_ms = ?'].join(', ')} WHERE rollout_id = ? AND device_id = ?`);
        patchStatements.set(sqlKey, statement);
      }
      const values = keys.map((k) => TARGET_COLUMNS[k].store(patch[k] as never));
      statement.run(...values, nowMs, rolloutId, deviceId);
      return target(rolloutId, deviceId)!;
    },
  };
}
