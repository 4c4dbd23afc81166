/** Campaigns, rounds, participants and rejected updates in SQLite (migrations 003, 005 and 006). */
import type { SqliteDatabase } from '../store/database.js';
import { finiteColumn, jsonColumn, timeColumn } from '../store/row-values.js';
import { upgradeStoredConfig, type CampaignConfig } from './campaign-config.js';
import { campaignQuantizationOf, type CampaignQuantization, type CampaignQuantizationColumns } from './campaign-quantization-repo.js';
import type { CampaignState, ParticipantState, RoundState } from './round-state.js';

export interface CampaignRecord {
  id: string;
  modelId: string;
  baseVersionId: string;
  currentVersionId: string;
  state: CampaignState;
  roundsTotal: number;
  roundsDone: number;
  config: CampaignConfig;
  strategyState: Uint8Array | null;
  error: string | null;
  /** The HUB_ERR_* code of `error` (migration 006); null when none. */
  errorCode: string | null;
  /** What became of `config.quantize` once the campaign completed (migration 008); null before, or when not asked. */
  quantization: CampaignQuantization | null;
  createdAtMs: number;
  updatedAtMs: number;
  /**
   * Why the stored row cannot drive the campaign (config not JSON, non-finite counts); absent when it can. Such
   * values read as `{}` / 0 so the campaign still lists; the coordinator fails it at start (stored-campaign.ts).
   */
  unusable?: string;
}

export interface RoundRecord {
  id: string;
  campaignId: string;
  number: number;
  state: RoundState;
  baseVersionId: string;
  resultVersionId: string | null;
  artifactSha256: string | null;
  targetClients: number;
  minClients: number;
  seed: number;
  deadlineAtMs: number | null;
  evalDeadlineAtMs: number | null;
  bytesDown: number;
  bytesUp: number;
  metrics: RoundMetrics;
  error: string | null;
  /** The HUB_ERR_* code of `error` (migration 006); null when none. */
  errorCode: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

/** What a round measured; all optional until the step that produces them ran. */
export interface RoundMetrics {
  /** Fleet-weighted federated evaluation of the result: Σ nₖ accₖ / Σ nₖ over evaluating devices. */
  accuracy?: number;
  loss?: number;
  evalExamples?: number;
  evalDevices?: number;
  /** Hub-side evaluation of the result on the campaign's validation set. */
  hubAccuracy?: number;
  hubLoss?: number;
  hubExamples?: number;
  /** Example-weighted local metrics the updates reported. */
  trainLoss?: number;
  accuracyBeforeLocal?: number;
  accuracyAfterLocal?: number;
  updates?: number;
  examples?: number;
  durationMs?: number;
}

export interface ParticipantRecord {
  roundId: string;
  deviceId: string;
  commandId: string;
  state: ParticipantState;
  reason: string | null;
  updateRef: string | null;
  /** Examples the update claims. */
  exampleCount: number | null;
  /** Training examples the device had declared when it was selected; null = not declared. */
  declaredExamples: number | null;
  /** Weight its update carried in the aggregation (the claim, bounded: update-weight.ts); null until aggregated. */
  weight: number | null;
  updateBytes: number | null;
  trainMetrics: Record<string, number> | null;
  evalCommandId: string | null;
  evalExamples: number | null;
  evalLoss: number | null;
  evalAccuracy: number | null;
  updatedAtMs: number;
}

interface CampaignRow extends CampaignQuantizationColumns {
  id: string; model_id: string; base_version_id: string; current_version_id: string; state: CampaignState;
  rounds_total: number; rounds_done: number; config: string; strategy_state: Buffer | null; error: string | null;
  error_code: string | null; created_at_ms: number; updated_at_ms: number;
}
interface RoundRow {
  id: string; campaign_id: string; number: number; state: RoundState; base_version_id: string;
  result_version_id: string | null; artifact_sha256: string | null; target_clients: number; min_clients: number;
  seed: number; deadline_at_ms: number | null; eval_deadline_at_ms: number | null; bytes_down: number; bytes_up: number;
  metrics: string; error: string | null; error_code: string | null; created_at_ms: number; updated_at_ms: number;
}
interface ParticipantRow {
  round_id: string; device_id: string; command_id: string; state: ParticipantState; reason: string | null;
  update_sha256: string | null; example_count: number | null; declared_examples: number | null; weight: number | null;
  update_bytes: number | null; train_metrics: string | null;
  eval_command_id: string | null; eval_examples: number | null; eval_loss: number | null; eval_accuracy: number | null;
  updated_at_ms: number;
}

function toCampaign(r: CampaignRow): CampaignRecord {
  const problems: string[] = [];
  const config = jsonColumn<CampaignConfig>(r.config, 'config', problems);
  const record: CampaignRecord = {
    id: r.id, modelId: r.model_id, baseVersionId: r.base_version_id, currentVersionId: r.current_version_id, state: r.state,
    roundsTotal: finiteColumn(r.rounds_total, 'rounds_total', problems), roundsDone: finiteColumn(r.rounds_done, 'rounds_done', problems),
    // Not an object: left as it is for storedCampaignProblems to report.
    config: config !== null && typeof config === 'object' && !Array.isArray(config) ? upgradeStoredConfig(config) : config ?? ({} as CampaignConfig),
    strategyState: r.strategy_state ? new Uint8Array(r.strategy_state) : null, error: r.error, errorCode: r.error_code,
    quantization: campaignQuantizationOf(r),
    createdAtMs: timeColumn(r.created_at_ms, 'created_at_ms', problems), updatedAtMs: timeColumn(r.updated_at_ms, 'updated_at_ms', problems),
  };
  return problems.length > 0 ? { ...record, unusable: problems.join('; ') } : record;
}

const toRound = (r: RoundRow): RoundRecord => ({
  id: r.id, campaignId: r.campaign_id, number: r.number, state: r.state, baseVersionId: r.base_version_id,
  resultVersionId: r.result_version_id, artifactSha256: r.artifact_sha256, targetClients: r.target_clients,
  minClients: r.min_clients, seed: r.seed, deadlineAtMs: r.deadline_at_ms, evalDeadlineAtMs: r.eval_deadline_at_ms,
  bytesDown: r.bytes_down, bytesUp: r.bytes_up, metrics: jsonColumn<RoundMetrics>(r.metrics, 'metrics', []) ?? {}, error: r.error,
  errorCode: r.error_code, createdAtMs: r.created_at_ms, updatedAtMs: r.updated_at_ms,
});

const toParticipant = (r: ParticipantRow): ParticipantRecord => ({
  roundId: r.round_id, deviceId: r.device_id, commandId: r.command_id, state: r.state, reason: r.reason,
  updateRef: r.update_sha256, exampleCount: r.example_count, declaredExamples: r.declared_examples, weight: r.weight,
  updateBytes: r.update_bytes,
  trainMetrics: r.train_metrics ? (JSON.parse(r.train_metrics) as Record<string, number>) : null,
  evalCommandId: r.eval_command_id, evalExamples: r.eval_examples, evalLoss: r.eval_loss, evalAccuracy: r.eval_accuracy,
  updatedAtMs: r.updated_at_ms,
});

export type RoundRepo = ReturnType<typeof createRoundRepo>;

export function createRoundRepo(db: SqliteDatabase) {
  const q = {
    insertCampaign: db.prepare(`INSERT INTO campaigns (id, model_id, base_version_id, current_version_id, state, rounds_total,
      config, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)`),
    campaign: db.prepare<[string], CampaignRow>('SELECT * FROM campaigns WHERE id = ?'),
    campaigns: db.prepare<[number], CampaignRow>('SELECT * FROM campaigns ORDER BY created_at_ms DESC LIMIT ?'),
    campaignsByState: db.prepare<[string], CampaignRow>('SELECT * FROM campaigns WHERE state = ? ORDER BY created_at_ms'),
    setCampaignState: db.prepare('UPDATE campaigns SET state = ?, error = ?, error_code = ?, updated_at_ms = ? WHERE id = ?'),
    advanceCampaign: db.prepare(`UPDATE campaigns SET current_version_id = ?, rounds_done = rounds_done + 1, strategy_state = ?,
      updated_at_ms = ? WHERE id = ?`),
    insertRound: db.prepare(`INSERT INTO rounds (id, campaign_id, number, state, base_version_id, target_clients, min_clients,
      seed, created_at_ms, updated_at_ms) VALUES (?, ?, ?, 'created', ?, ?, ?, ?, ?, ?)`),
    round: db.prepare<[string], RoundRow>('SELECT * FROM rounds WHERE id = ?'),
    roundsOf: db.prepare<[string], RoundRow>('SELECT * FROM rounds WHERE campaign_id = ? ORDER BY number'),
    activeRounds: db.prepare<[], RoundRow>(`SELECT * FROM rounds WHERE state NOT IN ('committed', 'failed') ORDER BY created_at_ms`),
    setRoundState: db.prepare(`UPDATE rounds SET state = ?, error = COALESCE(?, error), error_code = COALESCE(?, error_code),
      updated_at_ms = ? WHERE id = ?`),
    setTrainingPlan: db.prepare(`UPDATE rounds SET artifact_sha256 = ?, deadline_at_ms = ?, target_clients = ?, updated_at_ms = ?
      WHERE id = ?`),
    setResult: db.prepare(`UPDATE rounds SET result_version_id = ?, updated_at_ms = ? WHERE id = ?`),
    setEvalDeadline: db.prepare('UPDATE rounds SET eval_deadline_at_ms = ?, updated_at_ms = ? WHERE id = ?'),
    setMetrics: db.prepare('UPDATE rounds SET metrics = ?, updated_at_ms = ? WHERE id = ?'),
    addBytes: db.prepare('UPDATE rounds SET bytes_down = bytes_down + ?, bytes_up = bytes_up + ? WHERE id = ?'),
    insertParticipant: db.prepare(`INSERT INTO round_participants (round_id, device_id, command_id, state, declared_examples,
      updated_at_ms) VALUES (?, ?, ?, 'selected', ?, ?)`),
    setWeight: db.prepare('UPDATE round_participants SET weight = ? WHERE round_id = ? AND device_id = ?'),
    deleteParticipants: db.prepare('DELETE FROM round_participants WHERE round_id = ?'),
    participants: db.prepare<[string], ParticipantRow>('SELECT * FROM round_participants WHERE round_id = ? ORDER BY device_id'),
    participant: db.prepare<[string, string], ParticipantRow>('SELECT * FROM round_participants WHERE round_id = ? AND device_id = ?'),
    byCommand: db.prepare<[string, string], ParticipantRow>('SELECT * FROM round_participants WHERE command_id = ? OR eval_command_id = ?'),
    activeDevices: db.prepare<[], { device_id: string }>(`SELECT p.device_id FROM round_participants p JOIN rounds r ON r.id = p.round_id
      WHERE r.state IN ('selecting', 'training') AND p.state IN ('selected', 'training')`),
    setParticipantState: db.prepare(`UPDATE round_participants SET state = ?, reason = ?, updated_at_ms = ?
      WHERE round_id = ? AND device_id = ? AND state IN ('selected', 'training')`),
    acceptUpdate: db.prepare(`UPDATE round_participants SET state = 'updated', reason = NULL, update_sha256 = ?, example_count = ?,
      update_bytes = ?, train_metrics = ?, updated_at_ms = ? WHERE round_id = ? AND device_id = ? AND state IN ('selected', 'training', 'dropped')`),
    reviveParticipant: db.prepare(`UPDATE round_participants SET state = 'training', reason = NULL, updated_at_ms = ?
      WHERE round_id = ? AND device_id = ? AND state = 'dropped'`),
    setEvalCommand: db.prepare('UPDATE round_participants SET eval_command_id = ? WHERE round_id = ? AND device_id = ?'),
    setEvalResult: db.prepare(`UPDATE round_participants SET eval_examples = ?, eval_loss = ?, eval_accuracy = ?, updated_at_ms = ?
      WHERE round_id = ? AND device_id = ? AND eval_accuracy IS NULL`),
    insertRejection: db.prepare('INSERT INTO update_rejections (round_id, device_id, code, detail, at_ms) VALUES (?, ?, ?, ?, ?)'),
    rejectionsOfRound: db.prepare<[string], { device_id: string; code: string; count: number }>(
      'SELECT device_id, code, COUNT(*) AS count FROM update_rejections WHERE round_id = ? GROUP BY device_id, code ORDER BY device_id, code'),
    rejectionsByDevice: db.prepare<[], { device_id: string; code: string; count: number }>(
      'SELECT device_id, code, COUNT(*) AS count FROM update_rejections GROUP BY device_id, code ORDER BY device_id, code'),
  };

  return {
    insertCampaign(c: { id: string; modelId: string; baseVersionId: string; roundsTotal: number; config: CampaignConfig; nowMs: number }): void {
      q.insertCampaign.run(c.id, c.modelId, c.baseVersionId, c.baseVersionId, c.roundsTotal, JSON.stringify(c.config), c.nowMs, c.nowMs);
    },
    campaign: (id: string): CampaignRecord | undefined => {
      const row = q.campaign.get(id);
      return row && toCampaign(row);
    },
    listCampaigns: (limit = 100): CampaignRecord[] => q.campaigns.all(limit).map(toCampaign),
    campaignsInState: (state: CampaignState): CampaignRecord[] => q.campaignsByState.all(state).map(toCampaign),
    /** Writes a campaign state as it is; only round-transitions.ts calls it (it checks the state table first). */
    setCampaignState(id: string, state: CampaignState, error: string | null, errorCode: string | null, nowMs: number): void {
      q.setCampaignState.run(state, error, errorCode, nowMs, id);
    },
    advanceCampaign(id: string, versionId: string, strategyState: Uint8Array | null, nowMs: number): void {
      q.advanceCampaign.run(versionId, strategyState ? Buffer.from(strategyState) : null, nowMs, id);
    },
    insertRound(r: { id: string; campaignId: string; number: number; baseVersionId: string; targetClients: number; minClients: number; seed: number; nowMs: number }): void {
      q.insertRound.run(r.id, r.campaignId, r.number, r.baseVersionId, r.targetClients, r.minClients, r.seed, r.nowMs, r.nowMs);
    },
    round: (id: string): RoundRecord | undefined => {
      const row = q.round.get(id);
      return row && toRound(row);
    },
    roundsOf: (campaignId: string): RoundRecord[] => q.roundsOf.all(campaignId).map(toRound),
    activeRounds: (): RoundRecord[] => q.activeRounds.all().map(toRound),
    /** Writes a round state as it is; only round-transitions.ts calls it (it checks the state table first). */
    setRoundState(id: string, state: RoundState, error: string | null, errorCode: string | null, nowMs: number): void {
      q.setRoundState.run(state, error, errorCode, nowMs, id);
    },
    /** What a round trains with: its downlink artifact, deadline and target (the state moves separately). */
    setTrainingPlan(id: string, artifactSha256: string, deadlineAtMs: number, targetClients: number, nowMs: number): void {
      q.setTrainingPlan.run(artifactSha256, deadlineAtMs, targetClients, nowMs, id);
    },
    setResult(id: string, versionId: string, nowMs: number): void {
      q.setResult.run(versionId, nowMs, id);
    },
    setEvalDeadline(id: string, evalDeadlineAtMs: number, nowMs: number): void {
      q.setEvalDeadline.run(evalDeadlineAtMs, nowMs, id);
    },
    setMetrics(id: string, metrics: RoundMetrics, nowMs: number): void {
      q.setMetrics.run(JSON.stringify(metrics), nowMs, id);
    },
    addBytes(id: string, down: number, up: number): void {
      q.addBytes.run(down, up, id);
    },
    insertParticipant(roundId: string, deviceId: string, commandId: string, nowMs: number, declaredExamples: number | null = null): void {
      q.insertParticipant.run(roundId, deviceId, commandId, declaredExamples, nowMs);
    },
    /** Records the weight a participant's update carried in the aggregation. */
    setWeight: (roundId: string, deviceId: string, weight: number): void => void q.setWeight.run(weight, roundId, deviceId),
    deleteParticipants: (roundId: string): void => void q.deleteParticipants.run(roundId),
    participants: (roundId: string): ParticipantRecord[] => q.participants.all(roundId).map(toParticipant),
    participant: (roundId: string, deviceId: string): ParticipantRecord | undefined => {
      const row = q.participant.get(roundId, deviceId);
      return row && toParticipant(row);
    },
    participantByCommand: (commandId: string): ParticipantRecord | undefined => {
      const row = q.byCommand.get(commandId, commandId);
      return row && toParticipant(row);
    },
    /** Devices busy in a round that is selecting or training. */
    busyDevices: (): Set<string> => new Set(q.activeDevices.all().map((r) => r.device_id)),
    /** Moves a pending participant to a final state; false when it was not pending. */
    settleParticipant(roundId: string, deviceId: string, state: ParticipantState, reason: string | null, nowMs: number): boolean {
      return q.setParticipantState.run(state, reason, nowMs, roundId, deviceId).changes === 1;
    },
    /** A dropped participant that came back while its round still trains is training again; false otherwise. */
    reviveParticipant: (roundId: string, deviceId: string, nowMs: number): boolean =>
      q.reviveParticipant.run(nowMs, roundId, deviceId).changes === 1,
    /**
     * Records an accepted update; false when the participant was neither pending nor dropped (duplicate or late). A
     * dropped participant's update counts: its connection went, its work did not (QoS 1 delivers it on reconnect).
     */
    acceptUpdate(u: { roundId: string; deviceId: string; ref: string; exampleCount: number; bytes: number; trainMetrics: Record<string, number>; nowMs: number }): boolean {
      return q.acceptUpdate.run(u.ref, u.exampleCount, u.bytes, JSON.stringify(u.trainMetrics), u.nowMs, u.roundId, u.deviceId).changes === 1;
    },
    setEvalCommand: (roundId: string, deviceId: string, commandId: string): void => void q.setEvalCommand.run(commandId, roundId, deviceId),
    /** Records an evaluation result once; false for a repeat. */
    setEvalResult(roundId: string, deviceId: string, r: { examples: number; loss: number; accuracy: number }, nowMs: number): boolean {
      return q.setEvalResult.run(r.examples, r.loss, r.accuracy, nowMs, roundId, deviceId).changes === 1;
    },
    addRejection(roundId: string | null, deviceId: string, code: string, detail: string, nowMs: number): void {
      q.insertRejection.run(roundId, deviceId, code, detail, nowMs);
    },
    rejectionsOfRound: (roundId: string) => q.rejectionsOfRound.all(roundId).map((r) => ({ deviceId: r.device_id, code: r.code, count: r.count })),
    rejectionsByDevice: () => q.rejectionsByDevice.all().map((r) => ({ deviceId: r.device_id, code: r.code, count: r.count })),
  };
}
