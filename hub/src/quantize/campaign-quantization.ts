/**
 * Starts the quantization a completed campaign asked for (issue 9 item 2: "a campaign can run [calibration] after its
 * last round"): a job of its final version with its `quantize` settings (hub/src/rounds/campaign-quantize.ts),
 * audit-logged as actor `campaign`. The campaign completed first — the coordinator wrote its quantization record
 * `pending` in the completing transaction — and stays completed whatever happens here: `pending` becomes `started`
 * with the job's id or `refused` with the code the start was refused with (no device can calibrate now, the data
 * set is gone, …), recorded once, with its audit entry, in one transaction. A hub that stops while a record is
 * pending starts that job when it is ready again; one that stops between the job's start and its record leaves a job
 * the restarted hub fails as interrupted, and starts another.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { isHubError } from '../errors.js';
import type { HubEvents } from '../events/hub-events.js';
import type { HubLogger } from '../logger.js';
import { storedQuantizeProblems, type CampaignQuantizeConfig } from '../rounds/campaign-quantize.js';
import { createCampaignQuantizationRepo, type CampaignQuantizationRepo, type QuantizationOutcome } from '../rounds/campaign-quantization-repo.js';
import { InFlight } from '../rounds/in-flight.js';
import type { CampaignRecord, RoundRepo } from '../rounds/round-repo.js';
import type { Store } from '../store/store.js';
import { CLOSE_DRAIN_MS, type QuantizationJobs } from './quantization-jobs.js';
import type { QuantizationRequest } from './quantization-request.js';

/** Who the audit log says started a campaign's quantization. */
export const CAMPAIGN_ACTOR = 'campaign';

declare module '../events/hub-events.js' {
  interface HubEventMap {
    /** A completed campaign's quantization job started: follow it by `jobId` (`quantization.*` events). */
    'campaign.quantization-started': { campaignId: string; versionId: string; jobId: string; at: string };
    /** A completed campaign's quantization could not start; the campaign stays completed. */
    'campaign.quantization-refused': { campaignId: string; versionId: string; errorCode: string; error: string; at: string };
  }
}

export interface CampaignQuantizationDeps {
  rounds: Pick<RoundRepo, 'campaign'>;
  jobs: Pick<QuantizationJobs, 'start'>;
  store: Store;
  audit: AuditLog;
  events: HubEvents;
  clock: Clock;
  log: HubLogger;
}

/** The quantization request of a campaign's final version. */
function requestOf(campaign: CampaignRecord, quantize: CampaignQuantizeConfig): QuantizationRequest {
  const { calibrate: _calibrate, datasetId, maxDevices, ...settings } = quantize;
  return {
    ...settings, ...(maxDevices === null ? {} : { maxDevices }),
    calibrate: datasetId === undefined ? 'fleet' : `dataset:${datasetId}`, model: campaign.modelId, version: campaign.currentVersionId,
  };
}

export class CampaignQuantizations {
  private readonly repo: CampaignQuantizationRepo;
  private readonly work: InFlight;
  /** Campaigns whose start is under way: `campaign.state` and the scan at open may name the same one. */
  private readonly starting = new Set<string>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: CampaignQuantizationDeps) {
    this.repo = createCampaignQuantizationRepo(deps.store.db);
    this.work = new InFlight((error) => deps.log.error({ err: error }, 'campaign quantization failed'));
  }

  /** Starts the jobs of campaigns that complete from now on, and of those completed while no hub could (the hub is ready). */
  open(): void {
    this.unsubscribe = this.deps.events.on('campaign.state', ({ campaignId, state }) => {
      if (state === 'completed') this.startFor(campaignId);
    });
    for (const campaignId of this.repo.pending()) this.startFor(campaignId);
  }

  /** Stops starting jobs and waits (bounded) for starts under way, before the store closes. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.work.drain(CLOSE_DRAIN_MS, this.deps.clock);
  }

  private startFor(campaignId: string): void {
    if (!this.work.open || this.starting.has(campaignId)) return;
    this.starting.add(campaignId);
    this.work.spawn(() => this.start(campaignId).finally(() => this.starting.delete(campaignId)));
  }

  private async start(campaignId: string): Promise<void> {
    const campaign = this.deps.rounds.campaign(campaignId);
    if (campaign?.quantization?.state !== 'pending') return;
    const quantize = campaign.config.quantize;
    let outcome: QuantizationOutcome;
    const problems = storedQuantizeProblems(quantize);
    if (!quantize || problems.length > 0) {
      outcome = { errorCode: 'HUB_ERR_CAMPAIGN_UNUSABLE', error: problems.join('; ') || 'config.quantize is missing' };
    } else {
      try {
        outcome = { jobId: (await this.deps.jobs.start(requestOf(campaign, quantize), CAMPAIGN_ACTOR)).id };
      } catch (error) {
        outcome = { errorCode: isHubError(error) ? error.code : 'HUB_ERR_INTERNAL', error: (error as Error).message };
      }
    }
    if (this.work.closed) return; // the store may be closed: the record stays pending, the next start retries
    this.record(campaign, outcome);
  }

  private record(campaign: CampaignRecord, outcome: QuantizationOutcome): void {
    const { store, audit, events, clock, log } = this.deps;
    const campaignId = campaign.id;
    const versionId = campaign.currentVersionId;
    const started = 'jobId' in outcome;
    const action = started ? 'campaign.quantization-started' : 'campaign.quantization-refused';
    const recorded = store.transaction(() => {
      if (!this.repo.settle(campaignId, outcome, clock.now())) return false;
      audit.record({ actor: CAMPAIGN_ACTOR, action, target: campaignId, details: { versionId, ...outcome } });
      return true;
    });
    if (!recorded) return;
    const at = new Date(clock.now()).toISOString();
    if (started) {
      log.info({ campaignId, versionId, jobId: outcome.jobId }, 'campaign quantization started');
      events.emit('campaign.quantization-started', { campaignId, versionId, jobId: outcome.jobId, at });
    } else {
      log.warn({ campaignId, versionId, code: outcome.errorCode, reason: outcome.error }, 'campaign quantization refused');
      events.emit('campaign.quantization-refused', { campaignId, versionId, errorCode: outcome.errorCode, error: outcome.error, at });
    }
  }
}
