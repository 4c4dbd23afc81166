/**
 * The life cycle of one round (DESIGN §4): created → selecting → training → aggregating → evaluating → committed |
 * failed, each step persisted through round-transitions.ts before the hub acts on it. Selection waits for enough
 * eligible devices (device-selection.ts), failing at once when not enough could ever come; training ends at its
 * target, when nobody is left, or at its deadline; aggregation (round-aggregation.ts) registers the new version;
 * federated evaluation waits for the devices' results until all answered or its deadline; a commit hands the
 * campaign back to the coordinator. A closing hub starts no step: a resumed round takes it up (see `resume`).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { HubEvents } from '../events/hub-events.js';
import type { DevicePresence } from '../fleet/liveness.js';
import type { HubLogger } from '../logger.js';
import type { ModelRegistry } from '../models/model-registry.js';
import type { Store } from '../store/store.js';
import type { DeviceSelection } from './device-selection.js';
import { fleetEvalMetrics } from './eval-result-check.js';
import type { InFlight } from './in-flight.js';
import type { RoundAggregation } from './round-aggregation.js';
import type { RoundCommands } from './round-commands.js';
import type { CampaignRecord, RoundMetrics, RoundRecord, RoundRepo } from './round-repo.js';
import type { RoundRuntimes } from './round-runtime.js';
import { isPending, isTerminal } from './round-state.js';
import type { Failure, RoundTransitions } from './round-transitions.js';
import { selectParticipants } from './selection.js';
import type { UpdateSpool } from './update-spool.js';
import './round-events.js';

export interface RoundLifecycleDeps {
  rounds: RoundRepo;
  store: Pick<Store, 'transaction'>;
  registry: Pick<ModelRegistry, 'getModel' | 'downlinkArtifact' | 'updateMetrics'>;
  presence: DevicePresence;
  selection: DeviceSelection;
  aggregation: RoundAggregation;
  tasks: RoundCommands;
  transitions: RoundTransitions;
  runtimes: RoundRuntimes;
  spool: Pick<UpdateSpool, 'removeRound'>;
  work: InFlight;
  events: HubEvents;
  clock: Clock;
  log: HubLogger;
  /** A round committed: its campaign moves on. */
  onCommitted(campaignId: string): void;
}

export class RoundLifecycle {
  constructor(private readonly deps: RoundLifecycleDeps) {}

  /** Creates the campaign's next round and starts selecting its participants. */
  start(campaign: CampaignRecord): void {
    const id = randomUUID();
    this.deps.rounds.insertRound({
      id, campaignId: campaign.id, number: campaign.roundsDone + 1, baseVersionId: campaign.currentVersionId,
      targetClients: campaign.config.clients, minClients: campaign.config.minClients, seed: campaign.config.seed, nowMs: this.deps.clock.now(),
    });
    this.deps.transitions.emitRound(id);
    this.select(id);
  }

  /** Takes up a round a previous process left unfinished, from its stored state. */
  resume(round: RoundRecord): void {
    const { rounds, tasks, runtimes, clock, work } = this.deps;
    this.deps.log.info({ campaignId: round.campaignId, roundId: round.id, state: round.state }, 'resuming round');
    switch (round.state) {
      case 'created':
      case 'selecting':
        rounds.deleteParticipants(round.id);
        this.select(round.id);
        break;
      case 'training':
        for (const p of rounds.participants(round.id)) {
          // Pending participants get their task again now, dropped ones when they come back online.
          if (isPending(p.state)) work.spawn(() => tasks.send('train', round.id, p.deviceId, p.commandId));
          else if (p.state === 'dropped') work.spawn(() => tasks.owe('train', round.id, p.deviceId, p.commandId));
        }
        runtimes.arm(round.id, round.deadlineAtMs ?? clock.now(), () => this.finishTraining(round.id));
        this.maybeFinishTraining(round.id);
        break;
      case 'aggregating':
        work.spawn(() => this.aggregate(round.id));
        break;
      case 'evaluating':
        for (const p of rounds.participants(round.id)) {
          if (p.evalCommandId && p.evalAccuracy === null) work.spawn(() => tasks.send('eval', round.id, p.deviceId, p.evalCommandId!));
        }
        runtimes.arm(round.id, round.evalDeadlineAtMs ?? clock.now(), () => this.spawnCommit(round.id));
        this.maybeFinishEvaluation(round.id);
        break;
    }
  }

  /** Runs a selection pass of a round that is created or selecting (one at a time). */
  select(roundId: string): void {
    const { runtimes, work, log, rounds } = this.deps;
    if (!work.open) return;
    const rt = runtimes.of(roundId);
    if (rt.selecting) return;
    rt.selecting = true;
    work.spawn(async () => {
      try {
        await this.selectOnce(roundId);
      } catch (error) {
        if (!work.open) return;
        log.error({ err: error, roundId }, 'selection failed');
        const round = rounds.round(roundId);
        if (round) this.fail(round, { code: 'HUB_ERR_ROUND_SELECTION_FAILED', message: `selection failed: ${(error as Error).message}` });
      } finally {
        rt.selecting = false;
      }
    });
  }

  private async selectOnce(roundId: string): Promise<void> {
    const { rounds, registry, selection, transitions, runtimes, store, clock, log, tasks, work } = this.deps;
    let round = rounds.round(roundId);
    if (!round || (round.state !== 'created' && round.state !== 'selecting')) return;
    if (round.state === 'created') {
      round = transitions.moveRound(roundId, 'selecting');
      transitions.emitRound(roundId);
    }
    const campaign = rounds.campaign(round.campaignId)!;
    const { config } = campaign;
    const { paramCount } = registry.getModel(campaign.modelId);
    // Devices that could never take part are not waited for: a later round that lost its fleet fails now.
    const impossible = selection.impossibility({ selector: config.selector, paramCount, needed: round.minClients, judgeEmptyFleet: round.number > 1 });
    if (impossible) return this.fail(round, { code: impossible.code, message: impossible.message });
    const eligible = selection.eligible(config, paramCount);
    if (eligible.length < round.minClients) {
      if (clock.now() - round.createdAtMs >= config.selectionTimeoutSec * 1000) {
        return this.fail(round, { code: 'HUB_ERR_ROUND_NO_ELIGIBLE', message: `only ${eligible.length} eligible devices, ${round.minClients} needed` });
      }
      // Wait for devices to come online: re-check every second (and on every device.online event).
      runtimes.arm(roundId, clock.now() + 1000, () => this.select(roundId));
      return;
    }
    runtimes.clear(roundId);
    const plan = selectParticipants(eligible, { clients: config.clients, overSelect: config.overSelect, seed: config.seed, roundNumber: round.number });
    const artifact = await this.deps.registry.downlinkArtifact(round.baseVersionId, config.downlink);
    if (!work.open || rounds.round(roundId)?.state !== 'selecting') return; // closing, or cancelled meanwhile
    const nowMs = clock.now();
    const deadlineAtMs = nowMs + config.deadlineSec * 1000;
    const commands = plan.selected.map((deviceId) => ({ deviceId, commandId: randomUUID() }));
    // The training-set size each device declared before it was selected: a declaration made later (even a truthful
    // one) must not raise the weight of this round's update (DESIGN §9).
    const declared = new Map(eligible.map((d) => [d.id, d.trainExamples]));
    store.transaction(() => {
      for (const c of commands) rounds.insertParticipant(roundId, c.deviceId, c.commandId, nowMs, declared.get(c.deviceId) ?? null);
      rounds.setTrainingPlan(roundId, artifact.sha256, deadlineAtMs, plan.target, nowMs);
      transitions.moveRound(roundId, 'training');
    });
    transitions.emitRound(roundId);
    log.info({ roundId, number: round.number, selected: plan.selected.length, target: plan.target, eligible: eligible.length }, 'round training');
    runtimes.arm(roundId, deadlineAtMs, () => this.finishTraining(roundId));
    await Promise.all(commands.map((c) => tasks.send('train', roundId, c.deviceId, c.commandId)));
  }

  /** After a participant changed: announces progress, and ends training at its target or when nobody is left. */
  maybeFinishTraining(roundId: string): void {
    const { rounds, runtimes, clock, work } = this.deps;
    if (!work.open) return;
    const round = rounds.round(roundId);
    if (round?.state !== 'training') return;
    const participants = rounds.participants(roundId);
    const updated = participants.filter((p) => p.state === 'updated').length;
    const pending = participants.filter((p) => isPending(p.state) || p.state === 'dropped').length;
    const live = participants.filter((p) => isPending(p.state)).length;
    this.deps.events.emit('round.progress', {
      campaignId: round.campaignId, roundId, number: round.number, updates: updated, target: round.targetClients,
      selected: participants.length, pending, at: new Date(clock.now()).toISOString(),
    });
    if (updated >= round.targetClients || pending === 0) return this.finishTraining(roundId);
    if (live > 0) return;
    // Everyone still owing an update is offline. A flapping connection comes back (and its update with it, QoS 1);
    // a dead device does not: wait rejoinGraceSec for one to reconnect, never past the deadline, then close.
    if (runtimes.isArmed(roundId, 'graceTimer')) return;
    const graceMs = 1000 * (rounds.campaign(round.campaignId)?.config.rejoinGraceSec ?? 10);
    const closeAtMs = Math.min(clock.now() + graceMs, round.deadlineAtMs ?? Infinity);
    if (closeAtMs <= clock.now()) return this.finishTraining(roundId);
    runtimes.arm(roundId, closeAtMs, () => {
      if (!rounds.participants(roundId).some((p) => isPending(p.state))) this.finishTraining(roundId);
    }, 'graceTimer');
  }

  /** Training ends: by target reached, nobody left, or deadline. Aggregate the round's updates or fail it. */
  private finishTraining(roundId: string): void {
    const { rounds, store, transitions, runtimes, tasks, clock, work } = this.deps;
    const round = rounds.round(roundId);
    if (!work.open || round?.state !== 'training') return;
    runtimes.clear(roundId, 'timer', 'graceTimer');
    const participants = rounds.participants(roundId);
    const updated = participants.filter((p) => p.state === 'updated').length;
    const enough = updated >= round.minClients;
    const nowMs = clock.now();
    const stragglers = participants.filter((p) => isPending(p.state) || p.state === 'dropped');
    store.transaction(() => {
      for (const p of stragglers) rounds.settleParticipant(roundId, p.deviceId, 'cancelled', 'round closed before its update', nowMs);
      if (enough) transitions.moveRound(roundId, 'aggregating');
    });
    for (const p of stragglers) tasks.cancel(p.deviceId, p.commandId, roundId, 'round closed');
    tasks.settleRound(roundId);
    if (!enough) {
      this.fail(rounds.round(roundId)!, { code: 'HUB_ERR_ROUND_TOO_FEW_UPDATES', message: `${updated} valid updates, ${round.minClients} needed` });
      return;
    }
    transitions.emitRound(roundId);
    work.spawn(() => this.aggregate(roundId));
  }

  private async aggregate(roundId: string): Promise<void> {
    const { rounds, store, presence, transitions, runtimes, tasks, clock, log, work } = this.deps;
    const round = rounds.round(roundId)!;
    const campaign = rounds.campaign(round.campaignId)!;
    // A closing hub registers no version: the resumed round aggregates the same spooled updates again.
    const stillAggregating = () => work.open && rounds.round(roundId)?.state === 'aggregating';
    try {
      const result = await this.deps.aggregation.aggregate(round, campaign, stillAggregating);
      if (!result) return;
      const nowMs = clock.now();
      const evaluators = campaign.config.evaluate
        ? result.participants.filter((p) => presence.isOnline(p.deviceId)).map((p) => ({ deviceId: p.deviceId, commandId: randomUUID() }))
        : [];
      const evalDeadlineAtMs = nowMs + campaign.config.evalTimeoutSec * 1000;
      const advanced = store.transaction(() => {
        if (!stillAggregating()) return false;
        rounds.setResult(roundId, result.version.id, nowMs);
        rounds.setMetrics(roundId, result.metrics, nowMs);
        rounds.advanceCampaign(campaign.id, result.version.id, result.strategyState, nowMs);
        for (const [deviceId, weight] of result.weights) rounds.setWeight(roundId, deviceId, weight);
        for (const e of evaluators) rounds.setEvalCommand(roundId, e.deviceId, e.commandId);
        if (evaluators.length > 0) {
          rounds.setEvalDeadline(roundId, evalDeadlineAtMs, nowMs);
          transitions.moveRound(roundId, 'evaluating');
        }
        return true;
      });
      if (!advanced) return;
      const { version } = result;
      log.info({ roundId, number: round.number, versionId: version.id, version: version.version, updates: result.participants.length }, 'round aggregated');
      if (evaluators.length === 0) return await this.commit(roundId);
      transitions.emitRound(roundId);
      runtimes.arm(roundId, evalDeadlineAtMs, () => this.spawnCommit(roundId));
      await Promise.all(evaluators.map((e) => tasks.send('eval', roundId, e.deviceId, e.commandId)));
    } catch (error) {
      if (!work.open || rounds.round(roundId)?.state !== 'aggregating') return; // closing, or cancelled meanwhile (its spool is gone)
      log.error({ err: error, roundId }, 'aggregation failed');
      // Aggregation failures are deterministic (bad state, too few updates): retrying would fail again.
      this.fail(rounds.round(roundId)!, { code: 'HUB_ERR_ROUND_AGGREGATION_FAILED', message: `aggregation failed: ${(error as Error).message}` });
    }
  }

  /** After an evaluation ended: commits once every evaluator answered or gave up. */
  maybeFinishEvaluation(roundId: string): void {
    const { rounds, runtimes, work } = this.deps;
    if (!work.open) return;
    const round = rounds.round(roundId);
    if (round?.state !== 'evaluating') return;
    const settled = runtimes.of(roundId).evalSettled;
    const waiting = rounds.participants(roundId).filter((p) => p.evalCommandId && p.evalAccuracy === null && !settled.has(p.deviceId));
    if (waiting.length === 0) this.spawnCommit(roundId);
  }

  private spawnCommit(roundId: string): void {
    this.deps.work.spawn(() => this.commit(roundId));
  }

  /** Records the federated evaluation (the bounded weighted mean of fleetEvalMetrics over the devices that answered), commits, moves the campaign on. */
  private async commit(roundId: string): Promise<void> {
    const { rounds, store, registry, transitions, runtimes, tasks, clock, log, work } = this.deps;
    const round = rounds.round(roundId);
    if (!work.open || !round || (round.state !== 'evaluating' && round.state !== 'aggregating')) return;
    runtimes.clear(roundId);
    const evaluated = rounds.participants(roundId).flatMap((p) => (p.evalAccuracy !== null && p.evalLoss !== null && p.evalExamples !== null
      ? [{ examples: p.evalExamples, accuracy: p.evalAccuracy, loss: p.evalLoss }] : []));
    const fleet = fleetEvalMetrics(evaluated, rounds.campaign(round.campaignId)?.config.weightCapFactor);
    const nowMs = clock.now();
    const metrics: RoundMetrics = { ...round.metrics, durationMs: nowMs - round.createdAtMs };
    if (fleet) {
      metrics.accuracy = fleet.accuracy;
      metrics.loss = fleet.loss;
      metrics.evalExamples = fleet.examples;
      metrics.evalDevices = fleet.devices;
    }
    store.transaction(() => {
      rounds.setMetrics(roundId, metrics, nowMs);
      transitions.moveRound(roundId, 'committed');
      if (round.resultVersionId) {
        registry.updateMetrics(round.resultVersionId, {
          ...(metrics.accuracy !== undefined ? { accuracy: metrics.accuracy, loss: metrics.loss, evalExamples: metrics.evalExamples, evalDevices: metrics.evalDevices } : {}),
        });
      }
    });
    tasks.settleRound(roundId);
    runtimes.forget(roundId);
    log.info({ roundId, number: round.number, accuracy: metrics.accuracy, loss: metrics.loss }, 'round committed');
    transitions.emitRound(roundId);
    this.deps.events.emit('round.committed', {
      campaignId: round.campaignId, roundId, number: round.number, versionId: round.resultVersionId ?? '',
      accuracy: metrics.accuracy ?? null, loss: metrics.loss ?? null, at: new Date(nowMs).toISOString(),
    });
    await this.deps.spool.removeRound(roundId).catch(() => {});
    if (work.open) this.deps.onCommitted(round.campaignId);
  }

  /**
   * Fails a round that has not ended (and its campaign, when that still runs) with a coded reason; tells its pending
   * participants to stop. `announceCampaign: false` when the caller announces the campaign itself (a cancel).
   */
  fail(round: RoundRecord, failure: Failure, options: { announceCampaign?: boolean } = {}): void {
    const { rounds, store, transitions, runtimes, tasks, clock, log } = this.deps;
    const current = rounds.round(round.id);
    if (!current || isTerminal(current.state)) return;
    runtimes.forget(round.id);
    const nowMs = clock.now();
    const pending = rounds.participants(round.id).filter((p) => isPending(p.state));
    store.transaction(() => {
      for (const p of pending) rounds.settleParticipant(round.id, p.deviceId, 'cancelled', failure.message, nowMs);
      transitions.moveRound(round.id, 'failed', failure);
      // A campaign that already ended (cancelled, found unusable) keeps its own reason.
      if (rounds.campaign(round.campaignId)?.state === 'running') {
        transitions.moveCampaign(round.campaignId, 'failed', { code: failure.code, message: `round ${current.number}: ${failure.message}` });
      }
    });
    for (const p of pending) tasks.cancel(p.deviceId, p.commandId, round.id, failure.message);
    tasks.settleRound(round.id);
    log.warn({ roundId: round.id, number: current.number, code: failure.code, reason: failure.message }, 'round failed');
    transitions.emitRound(round.id);
    if (options.announceCampaign !== false) transitions.emitCampaign(round.campaignId);
    this.deps.work.spawn(() => this.deps.spool.removeRound(round.id).catch(() => {}));
  }
}
