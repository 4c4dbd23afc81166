/**
 * The federated round coordinator (DESIGN §4). Drives each campaign's rounds through
 * created → selecting → training → aggregating → evaluating → committed | failed, persisting every step before it
 * acts on it; on start it resumes whatever a previous process left half done. Device traffic reaches it through
 * the broker's router (`update`, `reply`), liveness through hub events.
 */
import { randomUUID } from 'node:crypto';
import {
  ResultCode, WeightUpdate, shapeSize, trainingMemoryBytes, type CommandResultProps, type EvalResultProps, type ModelRefProps,
  type ModelWeights, type WeightUpdateProps,
} from '@fedfleet/proto';
import type { Broker } from '../broker/broker.js';
import type { DeviceMessage } from '../broker/router.js';
import type { TransferMeter } from '../broker/transfer-meter.js';
import type { EvaluationResult } from '@fedfleet/agent/ml';
import type { Clock, TimerHandle } from '../clock.js';
import type { DatasetRegistry } from '../datasets/dataset-registry.js';
import { HubError, isHubError } from '../errors.js';
import type { HubEvents } from '../events/hub-events.js';
import type { DeviceRecord, DeviceRepo } from '../fleet/device-repo.js';
import { parseSelector } from '../fleet/label-selector.js';
import type { TelemetryIngest } from '../fleet/telemetry-ingest.js';
import type { HubLogger } from '../logger.js';
import { encodingOf, type ModelRegistry, type Quantization } from '../models/model-registry.js';
import type { Store } from '../store/store.js';
import type { CampaignConfig, CampaignRequest, Compression } from './campaign-config.js';
import { createRoundRepo, type CampaignRecord, type RoundMetrics, type RoundRecord, type RoundRepo } from './round-repo.js';
import { canTransition, isPending, type RoundState } from './round-state.js';
import { selectParticipants } from './selection.js';
import { createStrategy, isStrategyError, type Strategy } from './strategies/index.js';
import { UpdateSpool } from './update-spool.js';
import { validateUpdate } from './validate-update.js';
import './round-events.js';

/** Chunk size suggested to devices for model downloads. */
const CHUNK_SIZE = 64 * 1024;

export interface CoordinatorDeps {
  store: Store;
  registry: ModelRegistry;
  datasets: DatasetRegistry;
  devices: DeviceRepo;
  telemetry: TelemetryIngest;
  broker: Broker;
  transfers: TransferMeter;
  events: HubEvents;
  clock: Clock;
  log: HubLogger;
  /** Folder of spooled updates. */
  spoolDir: string;
}

/** A round's timers: `timer` for its current phase (selection retry, deadline), `graceTimer` for the rejoin grace. */
type TimerSlot = 'timer' | 'graceTimer';

interface RoundRuntime {
  timer?: TimerHandle;
  /** Armed while every participant still owing an update is offline: closes the round unless one reconnects. */
  graceTimer?: TimerHandle;
  /** Devices whose evaluation ended without a result (refused, failed, offline). */
  evalSettled: Set<string>;
  /** Of those, the ones that went offline: a reconnect gets the eval task again. */
  evalOffline: Set<string>;
  /** A selection pass is running (they await the downlink artifact; one at a time). */
  selecting: boolean;
}

const quantizationOf = (c: Compression): Quantization => (c === 'none' ? 'fp32' : c);

export class Coordinator {
  readonly rounds: RoundRepo;
  private readonly spool: UpdateSpool;
  private readonly runtime = new Map<string, RoundRuntime>();
  private readonly strategies = new Map<string, Strategy>();
  private readonly unsubscribe: (() => void)[] = [];
  private closed = false;

  constructor(private readonly deps: CoordinatorDeps) {
    this.rounds = createRoundRepo(deps.store.db);
    this.spool = new UpdateSpool(deps.spoolDir);
  }

  /** Registers handlers and resumes every running campaign. */
  start(): void {
    const { broker, events, transfers } = this.deps;
    this.unsubscribe.push(
      broker.router.on('update', (m) => this.onUpdate(m)),
      broker.router.on('reply', (m) => this.onReply(m)),
      events.on('device.offline', ({ deviceId }) => this.onDeviceOffline(deviceId)),
      events.on('device.online', ({ deviceId }) => this.onDeviceOnline(deviceId)),
      transfers.onTransfer((t) => this.onTransfer(t.deviceId, t.sha256, t.bytes)),
    );
    for (const campaign of this.rounds.campaignsInState('running')) this.resumeCampaign(campaign);
  }

  close(): void {
    this.closed = true;
    for (const off of this.unsubscribe.splice(0)) off();
    for (const roundId of this.runtime.keys()) this.clearTimer(roundId, 'timer', 'graceTimer');
    this.runtime.clear();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Campaigns

  /**
   * The checks of a campaign request that do not depend on its model (selector, strategy and its options, client
   * counts); throws the HubError a bad request gets. Returns the campaign's strategy and minimum client count.
   */
  checkCampaign(request: CampaignRequest): { strategy: Strategy; minClients: number } {
    parseSelector(request.selector); // HUB_ERR_BAD_SELECTOR before anything is stored
    let strategy: Strategy;
    try {
      strategy = createStrategy(request.strategy, request.strategyOptions);
    } catch (error) {
      if (isStrategyError(error)) throw new HubError('HUB_ERR_ROUND_BAD_CONFIG', { message: error.message, details: error.violations });
      throw error;
    }
    const minClients = Math.max(request.minClients ?? Math.ceil(0.8 * request.clients), strategy.minUpdates);
    if (minClients > request.clients) {
      throw new HubError('HUB_ERR_ROUND_BAD_CONFIG', {
        message: `minClients ${minClients} exceeds clients ${request.clients}` +
          (strategy.minUpdates > 1 ? ` (${request.strategy} needs at least ${strategy.minUpdates} updates)` : ''),
      });
    }
    return { strategy, minClients };
  }

  /** Validates the request, stores the campaign and starts its first round. */
  startCampaign(request: CampaignRequest): CampaignRecord {
    const { registry, clock } = this.deps;
    const model = registry.getModel(request.model);
    const base = registry.resolveVersion(model.id, request.baseVersion ?? 'latest');
    const { strategy, minClients } = this.checkCampaign(request);
    const validationSet = request.validationSet === undefined ? undefined : this.deps.datasets.get(request.validationSet);
    if (validationSet && (shapeSize(validationSet.inputShape) !== shapeSize(model.inputShape) || validationSet.numClasses !== model.numClasses)) {
      throw new HubError('HUB_ERR_ROUND_BAD_CONFIG', {
        message: `validation set ${validationSet.name} (${JSON.stringify(validationSet.inputShape)}, ${validationSet.numClasses} classes) does not fit ` +
          `model ${model.name} (${JSON.stringify(model.inputShape)}, ${model.numClasses} classes)`,
      });
    }
    const compression = request.compression ?? 'none';
    const config: CampaignConfig = {
      selector: request.selector, clients: request.clients, minClients, overSelect: request.overSelect,
      deadlineSec: request.deadlineSec, selectionTimeoutSec: request.selectionTimeoutSec, rejoinGraceSec: request.rejoinGraceSec,
      evaluate: request.evaluate,
      evalTimeoutSec: request.evalTimeoutSec, epochs: request.epochs, batchSize: request.batchSize,
      learningRate: request.learningRate, proximalMu: strategy.clientConfig().proximalMu, maxExamples: request.maxExamples,
      strategy: request.strategy, strategyOptions: request.strategyOptions, downlink: request.downlink ?? compression,
      uplink: request.uplink ?? compression, maxUpdateNorm: request.maxUpdateNorm, seed: request.seed,
      ...(validationSet ? { validationSetId: validationSet.id } : {}),
      constraints: request.constraints,
    };
    const id = randomUUID();
    this.rounds.insertCampaign({ id, modelId: model.id, baseVersionId: base.id, roundsTotal: request.rounds, config, nowMs: clock.now() });
    this.strategies.set(id, strategy);
    this.deps.log.info({ campaignId: id, model: model.name, rounds: request.rounds, strategy: request.strategy }, 'campaign started');
    this.emitCampaign(id, 'running');
    this.startRound(this.rounds.campaign(id)!);
    return this.rounds.campaign(id)!;
  }

  cancelCampaign(id: string, reason = 'cancelled by operator'): CampaignRecord {
    const campaign = this.requireCampaign(id);
    if (campaign.state !== 'running') throw new HubError('HUB_ERR_CAMPAIGN_FINISHED', { message: `campaign is ${campaign.state}` });
    this.rounds.setCampaignState(id, 'cancelled', reason, this.deps.clock.now());
    for (const round of this.rounds.roundsOf(id)) {
      if (round.state !== 'committed' && round.state !== 'failed') this.failRound(round, reason, { campaignState: 'cancelled' });
    }
    this.emitCampaign(id, 'cancelled', reason);
    return this.rounds.campaign(id)!;
  }

  requireCampaign(id: string): CampaignRecord {
    const campaign = this.rounds.campaign(id);
    if (!campaign) throw new HubError('HUB_ERR_CAMPAIGN_NOT_FOUND', { message: `no campaign ${JSON.stringify(id)}` });
    return campaign;
  }

  private strategyOf(campaign: CampaignRecord): Strategy {
    let strategy = this.strategies.get(campaign.id);
    if (!strategy) {
      strategy = createStrategy(campaign.config.strategy, campaign.config.strategyOptions);
      this.strategies.set(campaign.id, strategy);
    }
    return strategy;
  }

  private resumeCampaign(campaign: CampaignRecord): void {
    const active = this.rounds.roundsOf(campaign.id).find((r) => r.state !== 'committed' && r.state !== 'failed');
    if (!active) {
      this.afterRound(campaign.id);
      return;
    }
    this.deps.log.info({ campaignId: campaign.id, roundId: active.id, state: active.state }, 'resuming round');
    switch (active.state) {
      case 'created':
      case 'selecting':
        this.rounds.deleteParticipants(active.id);
        void this.select(active.id);
        break;
      case 'training':
        for (const p of this.rounds.participants(active.id)) if (isPending(p.state)) void this.sendTrainTask(active.id, p.deviceId, p.commandId);
        this.armTimer(active.id, active.deadlineAtMs ?? this.deps.clock.now(), () => this.finishTraining(active.id));
        this.maybeFinishTraining(active.id);
        break;
      case 'aggregating':
        void this.aggregate(active.id);
        break;
      case 'evaluating':
        for (const p of this.rounds.participants(active.id)) {
          if (p.evalCommandId && p.evalAccuracy === null) void this.sendEvalTask(active.id, p.deviceId, p.evalCommandId);
        }
        this.armTimer(active.id, active.evalDeadlineAtMs ?? this.deps.clock.now(), () => void this.commit(active.id));
        this.maybeFinishEvaluation(active.id);
        break;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Round life cycle

  private startRound(campaign: CampaignRecord): void {
    const id = randomUUID();
    const number = campaign.roundsDone + 1;
    this.rounds.insertRound({
      id, campaignId: campaign.id, number, baseVersionId: campaign.currentVersionId, targetClients: campaign.config.clients,
      minClients: campaign.config.minClients, seed: campaign.config.seed, nowMs: this.deps.clock.now(),
    });
    this.emitRound(id);
    void this.select(id);
  }

  private transition(roundId: string, to: RoundState, error: string | null = null): RoundRecord {
    const round = this.rounds.round(roundId)!;
    if (!canTransition(round.state, to)) throw new Error(`round ${roundId}: ${round.state} → ${to} is not a transition`);
    this.rounds.setRoundState(roundId, to, error, this.deps.clock.now());
    this.emitRound(roundId);
    return this.rounds.round(roundId)!;
  }

  /** Devices that may train this campaign's model now. */
  eligibleDevices(campaign: CampaignRecord): DeviceRecord[] {
    const { devices, broker, registry, telemetry } = this.deps;
    const selector = parseSelector(campaign.config.selector);
    const model = registry.getModel(campaign.modelId);
    const busy = this.rounds.busyDevices();
    const { constraints } = campaign.config;
    return devices.list({ selector, status: 'online' }).devices.filter((device) => {
      if (busy.has(device.id) || !broker.isConnected(device.id)) return false;
      if (!device.profile.canTrain) return false;
      if (device.profile.ramBytes > 0 && trainingMemoryBytes(model.paramCount) > device.profile.ramBytes) return false;
      if (constraints.maxTemperatureC !== undefined || constraints.minBatteryPercent !== undefined || constraints.requireCharging) {
        const t = telemetry.latest(device.id)?.telemetry as { temperatureC?: number; batteryPercent?: number; charging?: boolean } | undefined;
        if (constraints.maxTemperatureC !== undefined && (t?.temperatureC ?? -Infinity) > constraints.maxTemperatureC) return false;
        if (constraints.minBatteryPercent !== undefined && t?.batteryPercent !== undefined && t.batteryPercent < constraints.minBatteryPercent) return false;
        if (constraints.requireCharging && t?.batteryPercent !== undefined && !t.charging) return false;
      }
      return true;
    });
  }

  private async select(roundId: string): Promise<void> {
    const rt = this.runtimeOf(roundId);
    if (rt.selecting) return;
    rt.selecting = true;
    try {
      await this.selectOnce(roundId);
    } catch (error) {
      this.deps.log.error({ err: error, roundId }, 'selection failed');
      const round = this.rounds.round(roundId);
      if (round) this.failRound(round, `selection failed: ${(error as Error).message}`);
    } finally {
      rt.selecting = false;
    }
  }

  private async selectOnce(roundId: string): Promise<void> {
    const { clock, registry } = this.deps;
    let round = this.rounds.round(roundId)!;
    if (round.state === 'created') round = this.transition(roundId, 'selecting');
    const campaign = this.rounds.campaign(round.campaignId)!;
    const eligible = this.eligibleDevices(campaign);
    if (eligible.length < round.minClients) {
      const waitedMs = clock.now() - round.createdAtMs;
      if (waitedMs >= campaign.config.selectionTimeoutSec * 1000) {
        this.failRound(round, `only ${eligible.length} eligible devices, ${round.minClients} needed`);
        return;
      }
      // Wait for devices to come online: re-check every second (and on every device.online event).
      this.armTimer(roundId, clock.now() + 1000, () => void this.select(roundId));
      return;
    }
    this.clearTimer(roundId);
    const plan = selectParticipants(eligible, {
      clients: campaign.config.clients, overSelect: campaign.config.overSelect, seed: campaign.config.seed, roundNumber: round.number,
    });
    const artifact = await registry.downlinkArtifact(round.baseVersionId, quantizationOf(campaign.config.downlink));
    if (this.rounds.round(roundId)?.state !== 'selecting') return; // cancelled meanwhile
    const nowMs = clock.now();
    const deadlineAtMs = nowMs + campaign.config.deadlineSec * 1000;
    const commands = plan.selected.map((deviceId) => ({ deviceId, commandId: randomUUID() }));
    this.deps.store.transaction(() => {
      for (const c of commands) this.rounds.insertParticipant(roundId, c.deviceId, c.commandId, nowMs);
      this.rounds.startTraining(roundId, artifact.sha256, deadlineAtMs, plan.target, nowMs);
    });
    this.emitRound(roundId);
    this.deps.log.info({ roundId, number: round.number, selected: plan.selected.length, target: plan.target, eligible: eligible.length }, 'round training');
    this.armTimer(roundId, deadlineAtMs, () => this.finishTraining(roundId));
    await Promise.all(commands.map((c) => this.sendTrainTask(roundId, c.deviceId, c.commandId)));
  }

  private async modelRef(versionId: string, compression: Compression, sha256?: string): Promise<ModelRefProps> {
    const { registry } = this.deps;
    const version = registry.getVersion(versionId);
    const quantization = quantizationOf(compression);
    const artifact = sha256
      ? { sha256, sizeBytes: this.deps.store.blobs.info(sha256)?.sizeBytes ?? 0 }
      : await registry.downlinkArtifact(versionId, quantization);
    return {
      modelId: version.modelId, versionId, sha256: artifact.sha256, sizeBytes: artifact.sizeBytes, encoding: encodingOf(quantization),
      chunkSize: CHUNK_SIZE, paramCount: version.paramCount, format: version.format,
    };
  }

  private async sendTrainTask(roundId: string, deviceId: string, commandId: string): Promise<void> {
    const round = this.rounds.round(roundId)!;
    const { config } = this.rounds.campaign(round.campaignId)!;
    try {
      await this.deps.broker.sendToDevice(deviceId, 'cmd', {
        command: {
          commandId,
          train: {
            roundId, roundNumber: round.number, campaignId: round.campaignId,
            baseModel: await this.modelRef(round.baseVersionId, config.downlink, round.artifactSha256 ?? undefined),
            epochs: config.epochs, batchSize: config.batchSize, learningRate: config.learningRate, proximalMu: config.proximalMu,
            deadlineAtMs: round.deadlineAtMs ?? 0, updateEncoding: encodingOf(quantizationOf(config.uplink)),
            seed: (round.seed * 1_000_003 + round.number) >>> 0, maxExamples: config.maxExamples,
          },
        },
      });
    } catch (error) {
      this.deps.log.warn({ err: error, roundId, deviceId }, 'train task not sent');
    }
  }

  private async sendEvalTask(roundId: string, deviceId: string, commandId: string): Promise<void> {
    const round = this.rounds.round(roundId)!;
    const { config } = this.rounds.campaign(round.campaignId)!;
    try {
      await this.deps.broker.sendToDevice(deviceId, 'cmd', {
        command: {
          commandId,
          eval: {
            roundId, campaignId: round.campaignId, model: await this.modelRef(round.resultVersionId!, config.downlink),
            deadlineAtMs: round.evalDeadlineAtMs ?? 0,
          },
        },
      });
    } catch (error) {
      this.deps.log.warn({ err: error, roundId, deviceId }, 'eval task not sent');
    }
  }

  private async sendCancel(deviceId: string, commandId: string, roundId: string, reason: string): Promise<void> {
    await this.deps.broker
      .sendToDevice(deviceId, 'cmd', { command: { commandId: randomUUID(), cancel: { targetCommandId: commandId, roundId, reason } } })
      .catch(() => {});
  }

  private maybeFinishTraining(roundId: string): void {
    const round = this.rounds.round(roundId);
    if (round?.state !== 'training') return;
    const participants = this.rounds.participants(roundId);
    const updated = participants.filter((p) => p.state === 'updated').length;
    const pending = participants.filter((p) => isPending(p.state) || p.state === 'dropped').length;
    const live = participants.filter((p) => isPending(p.state)).length;
    this.deps.events.emit('round.progress', {
      campaignId: round.campaignId, roundId, number: round.number, updates: updated, target: round.targetClients,
      selected: participants.length, pending, at: new Date(this.deps.clock.now()).toISOString(),
    });
    if (updated >= round.targetClients || pending === 0) return this.finishTraining(roundId);
    if (live > 0) return;
    // Everyone still owing an update is offline. A flapping connection comes back (and its update with it, QoS 1);
    // a dead device does not: wait rejoinGraceSec for one to reconnect, never past the deadline, then close.
    if (this.runtimeOf(roundId).graceTimer) return;
    const graceMs = 1000 * (this.rounds.campaign(round.campaignId)?.config.rejoinGraceSec ?? 10);
    const closeAtMs = Math.min(this.deps.clock.now() + graceMs, round.deadlineAtMs ?? Infinity);
    if (closeAtMs <= this.deps.clock.now()) return this.finishTraining(roundId);
    this.armTimer(roundId, closeAtMs, () => {
      if (!this.rounds.participants(roundId).some((p) => isPending(p.state))) this.finishTraining(roundId);
    }, 'graceTimer');
  }

  /** Training ends: by target reached, nobody left, or deadline. Commit the round's aggregation or fail it. */
  private finishTraining(roundId: string): void {
    const round = this.rounds.round(roundId);
    if (round?.state !== 'training') return;
    this.clearTimer(roundId, 'timer', 'graceTimer');
    const participants = this.rounds.participants(roundId);
    const updated = participants.filter((p) => p.state === 'updated').length;
    const nowMs = this.deps.clock.now();
    const stragglers = participants.filter((p) => isPending(p.state) || p.state === 'dropped');
    this.deps.store.transaction(() => {
      for (const p of stragglers) this.rounds.settleParticipant(roundId, p.deviceId, 'cancelled', 'round closed before its update', nowMs);
      if (updated >= round.minClients) this.rounds.setRoundState(roundId, 'aggregating', null, nowMs);
    });
    for (const p of stragglers) void this.sendCancel(p.deviceId, p.commandId, roundId, 'round closed');
    if (updated < round.minClients) {
      this.failRound(this.rounds.round(roundId)!, `${updated} valid updates, ${round.minClients} needed`);
      return;
    }
    this.emitRound(roundId);
    void this.aggregate(roundId);
  }

  private async aggregate(roundId: string): Promise<void> {
    const { registry, clock, log } = this.deps;
    const round = this.rounds.round(roundId)!;
    const campaign = this.rounds.campaign(round.campaignId)!;
    try {
      const base = await registry.loadContent(round.baseVersionId);
      const strategy = this.strategyOf(campaign);
      strategy.loadState(campaign.strategyState);
      const aggregator = strategy.begin(base.weights);
      const shapes = base.weights.map((w) => ({ name: w.name, shape: w.shape }));
      const participants = this.rounds.participants(roundId).filter((p) => p.state === 'updated');
      let examples = 0;
      const sums = { trainLoss: 0, before: 0, after: 0 };
      for (const p of participants) {
        const update = WeightUpdate.decode(await this.spool.read(roundId, p.updateRef!));
        // Re-validated from disk: the spool is trusted storage, but a torn file must not poison the model.
        const valid = validateUpdate(update, { baseVersionId: round.baseVersionId, shapes, maxUpdateNorm: 0 });
        aggregator.add({ deviceId: p.deviceId, exampleCount: valid.exampleCount, delta: valid.delta });
        examples += valid.exampleCount;
        sums.trainLoss += valid.exampleCount * (p.trainMetrics?.trainLoss ?? 0);
        sums.before += valid.exampleCount * (p.trainMetrics?.accuracyBefore ?? 0);
        sums.after += valid.exampleCount * (p.trainMetrics?.accuracyAfter ?? 0);
      }
      const weights = aggregator.finish();
      const hubEval = campaign.config.validationSetId ? await this.evaluateAtHub(campaign.config.validationSetId, base.topologyJson, weights, roundId) : undefined;
      const metrics: RoundMetrics = {
        ...round.metrics, updates: participants.length, examples, trainLoss: sums.trainLoss / examples,
        accuracyBeforeLocal: sums.before / examples, accuracyAfterLocal: sums.after / examples,
        ...(hubEval ? { hubAccuracy: hubEval.accuracy, hubLoss: hubEval.loss, hubExamples: hubEval.count } : {}),
      };
      // An operator may cancel the round while its updates are read: then no version is registered for it.
      const stillAggregating = () => this.rounds.round(roundId)?.state === 'aggregating';
      const version = await registry.addRoundVersion({
        modelId: campaign.modelId, parentVersionId: round.baseVersionId, roundId, campaignId: campaign.id, weights,
        metrics: {
          round: round.number, updates: participants.length, examples, trainLoss: metrics.trainLoss,
          ...(hubEval ? { hubAccuracy: hubEval.accuracy, hubLoss: hubEval.loss, validationSetId: campaign.config.validationSetId } : {}),
        },
        onlyIf: stillAggregating,
      });
      if (!version) return;
      const strategyState = strategy.saveState();
      const nowMs = clock.now();
      const evaluators = campaign.config.evaluate
        ? participants.filter((p) => this.deps.broker.isConnected(p.deviceId)).map((p) => ({ deviceId: p.deviceId, commandId: randomUUID() }))
        : [];
      const evalDeadlineAtMs = nowMs + campaign.config.evalTimeoutSec * 1000;
      const advanced = this.deps.store.transaction(() => {
        if (!stillAggregating()) return false;
        this.rounds.setResult(roundId, version.id, nowMs);
        this.rounds.setMetrics(roundId, metrics, nowMs);
        this.rounds.advanceCampaign(campaign.id, version.id, strategyState, nowMs);
        for (const e of evaluators) this.rounds.setEvalCommand(roundId, e.deviceId, e.commandId);
        if (evaluators.length > 0) this.rounds.startEvaluating(roundId, evalDeadlineAtMs, nowMs);
        return true;
      });
      if (!advanced) return;
      log.info({ roundId, number: round.number, versionId: version.id, version: version.version, updates: participants.length }, 'round aggregated');
      if (evaluators.length === 0) {
        await this.commit(roundId);
        return;
      }
      this.emitRound(roundId);
      this.armTimer(roundId, evalDeadlineAtMs, () => void this.commit(roundId));
      await Promise.all(evaluators.map((e) => this.sendEvalTask(roundId, e.deviceId, e.commandId)));
    } catch (error) {
      if (this.rounds.round(roundId)?.state !== 'aggregating') return; // cancelled meanwhile (its spool is gone)
      log.error({ err: error, roundId }, 'aggregation failed');
      // Aggregation failures are deterministic (bad state, too few updates): retrying would fail again.
      this.failRound(this.rounds.round(roundId)!, `aggregation failed: ${(error as Error).message}`);
    }
  }

  /**
   * Hub-side evaluation of a new global model on a validation set (DESIGN §4), with the agent's evaluation code on
   * this process's TensorFlow.js backend. A failure is logged and leaves the metric out: it never fails the round.
   */
  private async evaluateAtHub(datasetId: string, topologyJson: string, weights: ModelWeights, roundId: string): Promise<EvaluationResult | undefined> {
    try {
      const { evaluate } = await import('@fedfleet/agent/ml');
      const started = performance.now();
      const result = await evaluate({ topologyJson, weights, data: this.deps.datasets.load(datasetId) });
      this.deps.log.info({ roundId, accuracy: result.accuracy, examples: result.count, ms: Math.round(performance.now() - started) }, 'hub-side evaluation');
      return result;
    } catch (error) {
      this.deps.log.warn({ err: error, roundId, datasetId }, 'hub-side evaluation failed');
      return undefined;
    }
  }

  private maybeFinishEvaluation(roundId: string): void {
    const round = this.rounds.round(roundId);
    if (round?.state !== 'evaluating') return;
    const settled = this.runtimeOf(roundId).evalSettled;
    const waiting = this.rounds.participants(roundId).filter((p) => p.evalCommandId && p.evalAccuracy === null && !settled.has(p.deviceId));
    if (waiting.length === 0) void this.commit(roundId);
  }

  /** Records evaluation metrics, commits the round and moves the campaign on. */
  private async commit(roundId: string): Promise<void> {
    const round = this.rounds.round(roundId);
    if (!round || (round.state !== 'evaluating' && round.state !== 'aggregating')) return;
    this.clearTimer(roundId);
    const evaluated = this.rounds.participants(roundId).filter((p) => p.evalAccuracy !== null && (p.evalExamples ?? 0) > 0);
    const n = evaluated.reduce((s, p) => s + p.evalExamples!, 0);
    const metrics: RoundMetrics = { ...round.metrics, durationMs: this.deps.clock.now() - round.createdAtMs };
    if (n > 0) {
      metrics.accuracy = evaluated.reduce((s, p) => s + p.evalExamples! * p.evalAccuracy!, 0) / n;
      metrics.loss = evaluated.reduce((s, p) => s + p.evalExamples! * p.evalLoss!, 0) / n;
      metrics.evalExamples = n;
      metrics.evalDevices = evaluated.length;
    }
    const nowMs = this.deps.clock.now();
    this.deps.store.transaction(() => {
      this.rounds.setMetrics(roundId, metrics, nowMs);
      this.rounds.setRoundState(roundId, 'committed', null, nowMs);
      if (round.resultVersionId) {
        this.deps.registry.updateMetrics(round.resultVersionId, {
          ...(metrics.accuracy !== undefined ? { accuracy: metrics.accuracy, loss: metrics.loss, evalExamples: metrics.evalExamples, evalDevices: metrics.evalDevices } : {}),
        });
      }
    });
    this.runtime.delete(roundId);
    this.deps.log.info({ roundId, number: round.number, accuracy: metrics.accuracy, loss: metrics.loss }, 'round committed');
    this.emitRound(roundId);
    this.deps.events.emit('round.committed', {
      campaignId: round.campaignId, roundId, number: round.number, versionId: round.resultVersionId ?? '',
      accuracy: metrics.accuracy ?? null, loss: metrics.loss ?? null, at: new Date(nowMs).toISOString(),
    });
    await this.spool.removeRound(roundId).catch(() => {});
    this.afterRound(round.campaignId);
  }

  private failRound(round: RoundRecord, reason: string, opts: { campaignState?: 'failed' | 'cancelled' } = {}): void {
    if (round.state === 'committed' || round.state === 'failed') return;
    this.clearTimer(round.id, 'timer', 'graceTimer');
    const nowMs = this.deps.clock.now();
    const pending = this.rounds.participants(round.id).filter((p) => isPending(p.state));
    this.deps.store.transaction(() => {
      for (const p of pending) this.rounds.settleParticipant(round.id, p.deviceId, 'cancelled', reason, nowMs);
      this.rounds.setRoundState(round.id, 'failed', reason, nowMs);
      const campaign = this.rounds.campaign(round.campaignId)!;
      if (campaign.state === 'running') this.rounds.setCampaignState(campaign.id, opts.campaignState ?? 'failed', `round ${round.number}: ${reason}`, nowMs);
    });
    for (const p of pending) void this.sendCancel(p.deviceId, p.commandId, round.id, reason);
    this.runtime.delete(round.id);
    this.deps.log.warn({ roundId: round.id, number: round.number, reason }, 'round failed');
    this.emitRound(round.id);
    if (opts.campaignState !== 'cancelled') this.emitCampaign(round.campaignId, 'failed', reason);
    void this.spool.removeRound(round.id).catch(() => {});
  }

  private afterRound(campaignId: string): void {
    if (this.closed) return;
    const campaign = this.rounds.campaign(campaignId)!;
    if (campaign.state !== 'running') return;
    if (campaign.roundsDone >= campaign.roundsTotal) {
      this.rounds.setCampaignState(campaignId, 'completed', null, this.deps.clock.now());
      this.deps.log.info({ campaignId, rounds: campaign.roundsDone }, 'campaign completed');
      this.emitCampaign(campaignId, 'completed');
      this.strategies.delete(campaignId);
      return;
    }
    this.startRound(campaign);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Device traffic

  private reject(roundId: string | null, deviceId: string, error: HubError): void {
    this.rounds.addRejection(roundId, deviceId, error.code, error.message, this.deps.clock.now());
    this.deps.log.warn({ roundId, deviceId, code: error.code, detail: error.message }, 'update rejected');
    this.deps.events.emit('round.update-rejected', { roundId: roundId ?? '', deviceId, code: error.code, at: new Date(this.deps.clock.now()).toISOString() });
  }

  /** A WeightUpdate. Persisted (spool + database) before this returns, i.e. before the broker's PUBACK. */
  private async onUpdate(message: DeviceMessage): Promise<void> {
    const update = message.envelope.weightUpdate as WeightUpdateProps;
    const { deviceId } = message;
    const roundId = update.roundId ?? '';
    const round = this.rounds.round(roundId);
    if (!round) return this.reject(null, deviceId, new HubError('HUB_ERR_UPDATE_UNKNOWN_ROUND', { message: `no round ${JSON.stringify(roundId)}` }));
    const participant = this.rounds.participant(roundId, deviceId);
    if (!participant) return this.reject(roundId, deviceId, new HubError('HUB_ERR_UPDATE_NOT_SELECTED', { message: 'device is not a participant of this round' }));
    if (participant.state === 'updated') return this.reject(roundId, deviceId, new HubError('HUB_ERR_UPDATE_DUPLICATE', { message: 'device already sent its update for this round' }));
    if (update.commandId && update.commandId !== participant.commandId) {
      return this.reject(roundId, deviceId, new HubError('HUB_ERR_UPDATE_MALFORMED', { message: 'update does not answer this round\'s train task' }));
    }
    if (round.state !== 'training' || message.receivedAtMs > (round.deadlineAtMs ?? Infinity)) {
      return this.reject(roundId, deviceId, new HubError('HUB_ERR_UPDATE_LATE', { message: `round is ${round.state}${round.state === 'training' ? ' and past its deadline' : ''}` }));
    }
    const campaign = this.rounds.campaign(round.campaignId)!;
    let exampleCount: number;
    try {
      const base = await this.deps.registry.loadContent(round.baseVersionId);
      ({ exampleCount } = validateUpdate(update, {
        baseVersionId: round.baseVersionId,
        shapes: base.weights.map((w) => ({ name: w.name, shape: w.shape })),
        maxUpdateNorm: campaign.config.maxUpdateNorm,
      }));
    } catch (error) {
      if (isHubError(error)) return this.reject(roundId, deviceId, error);
      throw error;
    }
    const bytes = WeightUpdate.encode(update).finish();
    // Never the device's msgId: it is free text from the device and would become a path.
    const ref = await this.spool.write(roundId, `${deviceId}-${randomUUID()}`, bytes);
    const m = update.metrics ?? {};
    const accepted = this.deps.store.transaction(() => {
      // The round may have left `training` while the file was written: then this update is late, not counted.
      if (this.rounds.round(roundId)?.state !== 'training') return false;
      const ok = this.rounds.acceptUpdate({
        roundId, deviceId, ref, exampleCount, bytes: bytes.byteLength, nowMs: this.deps.clock.now(),
        trainMetrics: {
          lossBefore: m.lossBefore ?? 0, accuracyBefore: m.accuracyBefore ?? 0, lossAfter: m.lossAfter ?? 0,
          accuracyAfter: m.accuracyAfter ?? 0, trainLoss: m.trainLoss ?? 0, trainMs: m.trainMs ?? 0, evalExamples: m.evalExamples ?? 0,
        },
      });
      if (ok) this.rounds.addBytes(roundId, 0, bytes.byteLength);
      return ok;
    });
    if (!accepted) {
      const now = this.rounds.participant(roundId, deviceId);
      const code = now?.state === 'updated' ? 'HUB_ERR_UPDATE_DUPLICATE' : 'HUB_ERR_UPDATE_LATE';
      this.reject(roundId, deviceId, new HubError(code, { message: 'update arrived after the round closed or was already counted' }));
      return;
    }
    this.deps.log.debug({ roundId, deviceId, exampleCount }, 'update accepted');
    this.maybeFinishTraining(roundId);
  }

  private onReply(message: DeviceMessage): void {
    const { envelope, deviceId } = message;
    if (envelope.commandResult) this.onCommandResult(deviceId, envelope.commandResult);
    else if (envelope.evalResult) this.onEvalResult(deviceId, envelope.evalResult);
    else if (envelope.progress) {
      const p = envelope.progress;
      this.deps.events.emit('round.device-progress', {
        roundId: p.roundId ?? '', deviceId, phase: p.phase ?? '', fraction: p.fraction ?? 0, epoch: p.epoch ?? 0,
        epochs: p.epochs ?? 0, at: new Date(this.deps.clock.now()).toISOString(),
      });
    }
  }

  private onCommandResult(deviceId: string, result: CommandResultProps): void {
    const participant = this.rounds.participantByCommand(result.commandId ?? '');
    if (!participant || participant.deviceId !== deviceId) return;
    const code = result.code ?? ResultCode.RESULT_CODE_UNSPECIFIED;
    const isEval = participant.evalCommandId === result.commandId;
    const nowMs = this.deps.clock.now();
    if (isEval) {
      if (code === ResultCode.RESULT_CODE_REFUSED || code === ResultCode.RESULT_CODE_FAILED || code === ResultCode.RESULT_CODE_CANCELLED) {
        this.runtimeOf(participant.roundId).evalSettled.add(deviceId);
        this.maybeFinishEvaluation(participant.roundId);
      }
      return;
    }
    if (code === ResultCode.RESULT_CODE_ACCEPTED && participant.state === 'selected') {
      this.rounds.settleParticipant(participant.roundId, deviceId, 'training', null, nowMs);
    } else if (code === ResultCode.RESULT_CODE_REFUSED || code === ResultCode.RESULT_CODE_FAILED || code === ResultCode.RESULT_CODE_CANCELLED) {
      const state = code === ResultCode.RESULT_CODE_REFUSED ? 'refused' : code === ResultCode.RESULT_CODE_FAILED ? 'failed' : 'cancelled';
      const reason = [result.errorCode, result.reason].filter(Boolean).join(': ');
      if (this.rounds.settleParticipant(participant.roundId, deviceId, state, reason, nowMs)) {
        this.deps.log.info({ roundId: participant.roundId, deviceId, state, reason }, 'participant out');
        this.maybeFinishTraining(participant.roundId);
      }
    }
  }

  private onEvalResult(deviceId: string, result: EvalResultProps): void {
    const participant = this.rounds.participantByCommand(result.commandId ?? '');
    if (!participant || participant.deviceId !== deviceId || participant.evalCommandId !== result.commandId) return;
    const loss = Number(result.loss ?? NaN);
    const accuracy = Number(result.accuracy ?? NaN);
    const examples = Number(result.exampleCount ?? 0);
    if (!Number.isFinite(loss) || !(accuracy >= 0 && accuracy <= 1) || !Number.isInteger(examples) || examples < 0) {
      this.runtimeOf(participant.roundId).evalSettled.add(deviceId);
    } else {
      this.rounds.setEvalResult(participant.roundId, deviceId, { examples, loss, accuracy }, this.deps.clock.now());
    }
    this.maybeFinishEvaluation(participant.roundId);
  }

  private onDeviceOffline(deviceId: string): void {
    const nowMs = this.deps.clock.now();
    for (const round of this.rounds.activeRounds()) {
      const p = this.rounds.participant(round.id, deviceId);
      if (!p) continue;
      if (round.state === 'training' && isPending(p.state)) {
        this.rounds.settleParticipant(round.id, deviceId, 'dropped', 'went offline during the round', nowMs);
        this.deps.log.info({ roundId: round.id, deviceId }, 'participant dropped');
        this.maybeFinishTraining(round.id);
      } else if (round.state === 'evaluating' && p.evalCommandId && p.evalAccuracy === null) {
        const rt = this.runtimeOf(round.id);
        if (!rt.evalSettled.has(deviceId)) rt.evalOffline.add(deviceId);
        rt.evalSettled.add(deviceId);
        this.maybeFinishEvaluation(round.id);
      }
    }
  }

  private onDeviceOnline(deviceId: string): void {
    for (const round of this.rounds.activeRounds()) {
      if (round.state === 'selecting') void this.select(round.id);
      // A participant that reconnects (e.g. after a hub restart lost its session) gets its train or eval task again;
      // the agent answers a task it already ran from its memory of command ids instead of running it twice.
      const p = this.rounds.participant(round.id, deviceId);
      if (round.state === 'training' && p?.state === 'dropped' && this.rounds.reviveParticipant(round.id, deviceId, this.deps.clock.now())) {
        // Back within the round (a flapping connection): it trains on, or has its update still queued.
        this.deps.log.info({ roundId: round.id, deviceId }, 'participant rejoined');
        void this.sendTrainTask(round.id, deviceId, p.commandId);
        this.maybeFinishTraining(round.id);
      } else if (round.state === 'training' && p && isPending(p.state)) {
        void this.sendTrainTask(round.id, deviceId, p.commandId);
      } else if (round.state === 'evaluating' && p?.evalCommandId && p.evalAccuracy === null) {
        const rt = this.runtimeOf(round.id);
        if (rt.evalOffline.delete(deviceId)) rt.evalSettled.delete(deviceId);
        if (!rt.evalSettled.has(deviceId)) void this.sendEvalTask(round.id, deviceId, p.evalCommandId);
      }
    }
  }

  private onTransfer(deviceId: string, sha256: string, bytes: number): void {
    for (const round of this.rounds.activeRounds()) {
      if (round.artifactSha256 === sha256 && this.rounds.participant(round.id, deviceId)) this.rounds.addBytes(round.id, bytes, 0);
      else if (round.state === 'evaluating' && round.resultVersionId && this.rounds.participant(round.id, deviceId)?.evalCommandId) {
        // Evaluation downloads of the new version count toward the round that produced it.
        this.rounds.addBytes(round.id, bytes, 0);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------

  private runtimeOf(roundId: string): RoundRuntime {
    let rt = this.runtime.get(roundId);
    if (!rt) this.runtime.set(roundId, (rt = { evalSettled: new Set(), evalOffline: new Set(), selecting: false }));
    return rt;
  }

  private armTimer(roundId: string, atMs: number, fn: () => void, slot: TimerSlot = 'timer'): void {
    const rt = this.runtimeOf(roundId);
    const previous = rt[slot];
    if (previous) this.deps.clock.clearTimer(previous);
    rt[slot] = this.deps.clock.setTimeout(() => {
      rt[slot] = undefined;
      if (!this.closed) fn();
    }, Math.max(0, atMs - this.deps.clock.now()));
  }

  private clearTimer(roundId: string, ...slots: TimerSlot[]): void {
    const rt = this.runtime.get(roundId);
    if (!rt) return;
    for (const slot of slots.length > 0 ? slots : (['timer'] as const)) {
      const handle = rt[slot];
      if (handle) this.deps.clock.clearTimer(handle);
      rt[slot] = undefined;
    }
  }

  private emitRound(roundId: string): void {
    const round = this.rounds.round(roundId);
    if (!round) return;
    this.deps.events.emit('round.state', {
      campaignId: round.campaignId, roundId, number: round.number, state: round.state, error: round.error,
      at: new Date(this.deps.clock.now()).toISOString(),
    });
  }

  private emitCampaign(campaignId: string, state: string, error?: string): void {
    this.deps.events.emit('campaign.state', { campaignId, state, error: error ?? null, at: new Date(this.deps.clock.now()).toISOString() });
  }
}
