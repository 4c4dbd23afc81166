/**
 * What became of a campaign's `quantize` once it completed (migration 008), in its `campaigns` row: `pending` is
 * written in the transaction that completes the campaign, so a completed campaign that asked for a quantization
 * always has a record; `pending` then becomes `started` (the job's id) or `refused` (the code its start was refused
 * with) exactly once. The quantize capability does that (hub/src/quantize/campaign-quantization.ts).
 */
import type { SqliteDatabase } from '../store/database.js';

export const CAMPAIGN_QUANTIZATION_STATES = ['pending', 'started', 'refused'] as const;
export type CampaignQuantizationState = (typeof CAMPAIGN_QUANTIZATION_STATES)[number];

export interface CampaignQuantization {
  state: CampaignQuantizationState;
  /** The quantization job of the campaign's final version, once started. */
  jobId: string | null;
  /** HUB_ERR_* code the job's start was refused with: branch on it, not on `error`. */
  errorCode: string | null;
  error: string | null;
  updatedAtMs: number;
}

/** The columns of migration 008, as a `campaigns` row holds them. */
export interface CampaignQuantizationColumns {
  quantization_state: CampaignQuantizationState | null;
  quantization_job_id: string | null;
  quantization_error_code: string | null;
  quantization_error: string | null;
  quantization_updated_at_ms: number | null;
}

/** The record of a `campaigns` row; null when the campaign did not ask for a quantization or has not completed. */
export function campaignQuantizationOf(row: CampaignQuantizationColumns): CampaignQuantization | null {
  if (row.quantization_state === null) return null;
  return {
    state: row.quantization_state, jobId: row.quantization_job_id, errorCode: row.quantization_error_code,
    error: row.quantization_error, updatedAtMs: row.quantization_updated_at_ms ?? 0,
  };
}

/** How a pending quantization ended: a job, or the coded reason there is none. */
export type QuantizationOutcome = { jobId: string } | { errorCode: string; error: string };

export type CampaignQuantizationRepo = ReturnType<typeof createCampaignQuantizationRepo>;

export function createCampaignQuantizationRepo(db: SqliteDatabase) {
  const q = {
    markPending: db.prepare(`UPDATE campaigns SET quantization_state = 'pending', quantization_updated_at_ms = ?
      WHERE id = ? AND quantization_state IS NULL`),
    settle: db.prepare(`UPDATE campaigns SET quantization_state = ?, quantization_job_id = ?, quantization_error_code = ?,
      quantization_error = ?, quantization_updated_at_ms = ? WHERE id = ? AND quantization_state = 'pending'`),
    pending: db.prepare<[], { id: string }>(`SELECT id FROM campaigns WHERE quantization_state = 'pending' AND state = 'completed'
      ORDER BY updated_at_ms`),
  };
  return {
    /** The campaign completed and asked for a quantization; joins the caller's (completing) transaction. */
    markPending: (campaignId: string, nowMs: number): void => void q.markPending.run(nowMs, campaignId),
    /** Records how a pending quantization ended; false when it was not pending (recorded already). */
    settle(campaignId: string, outcome: QuantizationOutcome, nowMs: number): boolean {
      const started = 'jobId' in outcome;
      return q.settle.run(
        started ? 'started' : 'refused', started ? outcome.jobId : null, started ? null : outcome.errorCode, started ? null : outcome.error,
        nowMs, campaignId,
      ).changes === 1;
    },
    /** Completed campaigns whose quantization has not started yet, oldest first. */
    pending: (): string[] => q.pending.all().map((r) => r.id),
  };
}
