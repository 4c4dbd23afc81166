/**
 * The federated round coordinator (DESIGN §4), decorated as `hub.coordinator`: the campaign life cycle — start a
 * campaign (refusing one its fleet could never serve), run its rounds one after another, cancel it, and on start
 * resume whatever a previous process left running — and the wiring of the parts each round is made of: update
 * intake, device selection, the round life cycle with aggregation, participation and the round commands sent
 * through the commands capability. A hub that closes stops intake first, waits (bounded) for the work in flight and
 * only then lets the store close.
 */
import { randomUUID } from 'node:crypto';
import type { TransferMeter } from '../broker/transfer-meter.js';
import type { MessageHandler, Router } from '../broker/router.js';
import type { Clock } from '../clock.js';
import type { DeviceCommands } from '../commands/device-commands.js';
import type { DatasetRegistry } from '../datasets/dataset-registry.js';
import { HubError } from '../errors.js';
import type { HubEvents } from '../events/hub-events.js';
import { DeviceHolds } from '../fleet/device-holds.js';
import type { DeviceRecord, DeviceRepo } from '../fleet/device-repo.js';
import type { DevicePresence } from '../fleet/liveness.js';
import type { TelemetryIngest } from '../fleet/telemetry-ingest.js';
import type { HubLogger } from '../logger.js';
import type { Evaluator } from '../ml/evaluator.js';
import type { ModelRegistry } from '../models/model-registry.js';
import type { Store } from '../store/store.js';
import type { CampaignRequest } from './campaign-config.js';
import { createCampaignQuantizationRepo, type CampaignQuantizationRepo } from './campaign-quantization-repo.js';
import { campaignQuantizeOf, checkCampaignQuantize } from './campaign-quantize.js';
import { campaignConfigOf, checkCampaignRequest, type CheckedRequest } from './campaign-request.js';
import { createDeviceSelection, type DeviceSelection } from './device-selection.js';
import { InFlight } from './in-flight.js';
import { createRoundAggregation, type RoundAggregation } from './round-aggregation.js';
import { createRoundCommands, ROUNDS_OWNER } from './round-commands.js';
import { RoundLifecycle } from './round-lifecycle.js';
import { createRoundParticipation, type RoundParticipation } from './round-participation.js';
import { createRoundRepo, type CampaignRecord, type RoundRepo } from './round-repo.js';
import { RoundRuntimes } from './round-runtime.js';
import { isTerminal } from './round-state.js';
import { createRoundTransitions, type Failure, type RoundTransitions } from './round-transitions.js';
import { storedCampaignProblems } from './stored-campaign.js';
import { createUpdateIntake } from './update-intake.js';
import { UpdateSpool } from './update-spool.js';

/** How long a closing hub waits for round work in flight (an update being spooled, an aggregation) before the store closes. */
export const CLOSE_DRAIN_MS = 5000;

export interface CoordinatorDeps {
  store: Store;
  registry: ModelRegistry;
  datasets: DatasetRegistry;
  devices: DeviceRepo;
  /** Fleet liveness: who is online (selection and evaluation ask it, not the broker). */
  presence: DevicePresence;
  telemetry: TelemetryIngest;
  /** Where `update` messages arrive. */
  router: Pick<Router, 'on'>;
  /** Sends round tasks to devices and routes their replies back (hub/src/commands). */
  commands: DeviceCommands;
  transfers: TransferMeter;
  /** Hub-side evaluation on campaign validation sets. */
  evaluator: Pick<Evaluator, 'evaluate'>;
  events: HubEvents;
  clock: Clock;
  log: HubLogger;
  /** Folder of spooled updates. */
  spoolDir: string;
}

export class Coordinator {
  readonly rounds: RoundRepo;
  /**
   * Devices busy now, whoever holds them: rounds register theirs here, and other capabilities that give devices work
   * (quantize) register theirs and pick through it too, so selection never takes a device busy elsewhere.
   */
  readonly holds = new DeviceHolds();
  private readonly quantizations: CampaignQuantizationRepo;
  private readonly work: InFlight;
  private readonly transitions: RoundTransitions;
  private readonly selection: DeviceSelection;
  private readonly aggregation: RoundAggregation;
  private readonly runtimes: RoundRuntimes;
  private readonly lifecycle: RoundLifecycle;
  private readonly participation: RoundParticipation;
  private readonly intake: MessageHandler;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly deps: CoordinatorDeps) {
    const { store, registry, events, clock, log } = deps;
    const rounds = (this.rounds = createRoundRepo(store.db));
    this.quantizations = createCampaignQuantizationRepo(store.db);
    const spool = new UpdateSpool(deps.spoolDir);
    this.work = new InFlight((error) => log.error({ err: error }, 'round task failed'));
    this.runtimes = new RoundRuntimes(clock, () => this.work.open);
    this.transitions = createRoundTransitions({ rounds, events, clock });
    this.holds.register('rounds', () => rounds.busyDevices());
    this.selection = createDeviceSelection({
      devices: deps.devices, presence: deps.presence, telemetry: deps.telemetry, busyDevices: () => this.holds.busy(),
    });
    this.aggregation = createRoundAggregation({ rounds, registry, datasets: deps.datasets, spool, evaluator: deps.evaluator, log });
    const tasks = createRoundCommands({ rounds, registry, blobs: store.blobs, commands: deps.commands, log });
    this.lifecycle = new RoundLifecycle({
      rounds, store, registry, presence: deps.presence, selection: this.selection, aggregation: this.aggregation, tasks,
      transitions: this.transitions, runtimes: this.runtimes, spool, work: this.work, events, clock, log,
      onCommitted: (campaignId) => this.afterRound(campaignId),
    });
    this.participation = createRoundParticipation({ rounds, tasks, runtimes: this.runtimes, lifecycle: this.lifecycle, events, clock, log });
    this.intake = createUpdateIntake({
      rounds, registry, spool, store, work: this.work, events, clock, log,
      onAccepted: (roundId, _deviceId, commandId) => {
        tasks.settle(commandId);
        this.lifecycle.maybeFinishTraining(roundId);
      },
    });
  }

  /** Registers the handlers of round traffic and resumes every running campaign. */
  start(): void {
    const { router, events, transfers, commands } = this.deps;
    const p = this.participation;
    // The update handler stays for the hub's lifetime: once intake stops it holds updates unacknowledged (update-intake.ts).
    router.on('update', this.intake);
    this.unsubscribe.push(
      commands.onReply(ROUNDS_OWNER, (reply, sent) => p.onReply(reply, sent)),
      events.on('device.offline', ({ deviceId }) => p.onDeviceOffline(deviceId)),
      events.on('device.online', ({ deviceId }) => p.onDeviceOnline(deviceId)),
      events.on('device.revoked', () => p.onFleetChanged()),
      events.on('device.relabelled', () => p.onFleetChanged()),
      transfers.onTransfer((t) => p.onTransfer(t.deviceId, t.sha256, t.bytes)),
    );
    // One unusable stored campaign must neither keep the hub from starting nor the other campaigns from resuming.
    for (const campaign of this.rounds.campaignsInState('running')) this.resumeOrFail(campaign);
  }

  /** Stops intake and round work, waits for what is in flight (at most CLOSE_DRAIN_MS); the store may close after. */
  async close(): Promise<void> {
    this.work.stop();
    for (const off of this.unsubscribe.splice(0)) off();
    this.runtimes.forgetAll();
    this.deps.log.info({ inFlight: this.work.size }, 'rounds closing: intake stopped');
    const left = await this.work.drain(CLOSE_DRAIN_MS, this.deps.clock);
    if (left > 0) this.deps.log.warn({ running: left, waitedMs: CLOSE_DRAIN_MS }, 'rounds closed with work still running; it stops before touching the store');
  }

  // ---------------------------------------------------------------------------------------------------------
  // Campaigns

  /**
   * The checks of a campaign request that do not depend on its model (selector, strategy and its options, client
   * counts); throws the HubError a bad request gets. Returns the campaign's strategy and minimum client count.
   */
  checkCampaign(request: CampaignRequest): CheckedRequest {
    return checkCampaignRequest(request);
  }

  /**
   * Refuses (HUB_ERR_ROUND_IMPOSSIBLE) a campaign whose fleet could never fill a round: fewer devices matching the
   * selector could ever take part than `minClients` (device-selection.ts). A selector no enrolled device matches yet
   * is not judged: the fleet may enroll after the campaign starts.
   */
  checkCapacity(selector: string, minClients: number, paramCount: number): void {
    const impossible = this.selection.impossibility({ selector, paramCount, needed: minClients, judgeEmptyFleet: false });
    if (impossible) throw impossible;
  }

  /**
   * Refuses a `quantize` the campaign's model could not run (campaign-quantize.ts: unknown data set or one of other
   * examples, a layer the int8 .tflite cannot express), before anything is stored.
   */
  async checkQuantize(request: CampaignRequest): Promise<void> {
    await checkCampaignQuantize(request, this.deps);
  }

  /** Validates the request (checkQuantize before, for `quantize`), stores the campaign and starts its first round. */
  startCampaign(request: CampaignRequest): CampaignRecord {
    const { registry, clock, log } = this.deps;
    const model = registry.getModel(request.model);
    const base = registry.resolveVersion(model.id, request.baseVersion ?? 'latest');
    const checked = this.checkCampaign(request);
    this.checkCapacity(request.selector, checked.minClients, model.paramCount);
    const validationSet = request.validationSet === undefined ? undefined : this.deps.datasets.get(request.validationSet);
    const quantize = request.quantize && campaignQuantizeOf({ ...request, quantize: request.quantize }, this.deps.datasets).config;
    const config = campaignConfigOf(request, checked, model, validationSet, quantize);
    const id = randomUUID();
    this.rounds.insertCampaign({ id, modelId: model.id, baseVersionId: base.id, roundsTotal: request.rounds, config, nowMs: clock.now() });
    this.aggregation.remember(id, checked.strategy);
    log.info({ campaignId: id, model: model.name, rounds: request.rounds, strategy: request.strategy }, 'campaign started');
    this.transitions.emitCampaign(id);
    this.lifecycle.start(this.rounds.campaign(id)!);
    return this.rounds.campaign(id)!;
  }

  cancelCampaign(id: string, reason = 'cancelled by operator'): CampaignRecord {
    const campaign = this.requireCampaign(id);
    if (campaign.state !== 'running') throw new HubError('HUB_ERR_CAMPAIGN_FINISHED', { message: `campaign is ${campaign.state}` });
    this.transitions.moveCampaign(id, 'cancelled', { code: 'HUB_ERR_CAMPAIGN_CANCELLED', message: reason });
    for (const round of this.rounds.roundsOf(id)) {
      if (!isTerminal(round.state)) this.lifecycle.fail(round, { code: 'HUB_ERR_ROUND_CANCELLED', message: reason }, { announceCampaign: false });
    }
    this.aggregation.forget(id);
    this.transitions.emitCampaign(id);
    return this.rounds.campaign(id)!;
  }

  requireCampaign(id: string): CampaignRecord {
    const campaign = this.rounds.campaign(id);
    if (!campaign) throw new HubError('HUB_ERR_CAMPAIGN_NOT_FOUND', { message: `no campaign ${JSON.stringify(id)}` });
    return campaign;
  }

  /** Devices that may train this campaign's model now. */
  eligibleDevices(campaign: CampaignRecord): DeviceRecord[] {
    return this.selection.eligible(campaign.config, this.deps.registry.getModel(campaign.modelId).paramCount);
  }

  /** Resumes a stored running campaign, or fails it with HUB_ERR_CAMPAIGN_UNUSABLE when its row cannot drive it. */
  private resumeOrFail(campaign: CampaignRecord): void {
    try {
      const problems = storedCampaignProblems(campaign);
      if (problems.length > 0) throw new HubError('HUB_ERR_CAMPAIGN_UNUSABLE', { message: problems.join('; ') });
      this.resumeCampaign(campaign);
    } catch (error) {
      const failure: Failure = { code: 'HUB_ERR_CAMPAIGN_UNUSABLE', message: (error as Error).message };
      this.deps.log.error({ err: error, campaignId: campaign.id }, 'stored campaign cannot be resumed: failed');
      // The campaign first, so its rounds' failures keep this reason (they only fail a campaign that still runs).
      if (this.rounds.campaign(campaign.id)?.state === 'running') this.transitions.moveCampaign(campaign.id, 'failed', failure);
      const active = this.rounds.roundsOf(campaign.id).filter((r) => !isTerminal(r.state));
      for (const round of active) this.lifecycle.fail(round, failure);
      if (active.length === 0) this.transitions.emitCampaign(campaign.id);
      this.aggregation.forget(campaign.id);
    }
  }

  private resumeCampaign(campaign: CampaignRecord): void {
    const active = this.rounds.roundsOf(campaign.id).find((r) => !isTerminal(r.state));
    if (active) this.lifecycle.resume(active);
    else this.afterRound(campaign.id);
  }

  /** A round of the campaign committed (or none runs): the next round, or the campaign is complete. */
  private afterRound(campaignId: string): void {
    if (!this.work.open) return;
    const campaign = this.rounds.campaign(campaignId)!;
    if (campaign.state !== 'running') return;
    if (campaign.roundsDone >= campaign.roundsTotal) {
      // One transaction: a completed campaign that asked for a quantization always has its record (the quantize
      // capability starts the job on `campaign.state`, or at the next start should the hub stop first).
      this.deps.store.transaction(() => {
        this.transitions.moveCampaign(campaignId, 'completed');
        if (campaign.config.quantize) this.quantizations.markPending(campaignId, this.deps.clock.now());
      });
      this.deps.log.info({ campaignId, rounds: campaign.roundsDone }, 'campaign completed');
      this.transitions.emitCampaign(campaignId);
      this.aggregation.forget(campaignId);
      return;
    }
    this.lifecycle.start(campaign);
  }
}
