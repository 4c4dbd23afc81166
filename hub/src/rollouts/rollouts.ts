/**
 * Safe model rollouts (issue 10 item 4, DESIGN §5), decorated as `hub.rollouts`: create one (refusing, with nothing
 * stored, what cannot work), pause, resume, abort, list and show them. The parts: rollout-plan.ts picks the targets
 * and waves, rollout-engine.ts moves waves and commands, deploy-replies.ts reads the devices' reports, device-sync.ts
 * follows the fleet, supersede.ts lets a newer rollout of a model take its devices over. On open it resumes what a
 * previous process left: every command still awaited is owed again (sent when its device reconnects) and the timers
 * are recomputed from the stored deadlines.
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { DeviceCommands } from '../commands/device-commands.js';
import { HubError } from '../errors.js';
import type { HubEvents } from '../events/hub-events.js';
import type { DeviceRepo } from '../fleet/device-repo.js';
import { parseSelector } from '../fleet/label-selector.js';
import type { DevicePresence } from '../fleet/liveness.js';
import type { HubLogger } from '../logger.js';
import type { BundleBuilder } from '../models/bundle-builder.js';
import type { ModelRegistry } from '../models/model-registry.js';
import { InFlight } from '../rounds/in-flight.js';
import type { Store } from '../store/store.js';
import { createDeployReplies } from './deploy-replies.js';
import { DeviceSync } from './device-sync.js';
import { commandOf, ROLLOUTS_OWNER, sentCommand } from './rollout-commands.js';
import { RolloutEngine } from './rollout-engine.js';
import { planTargets } from './rollout-plan.js';
import { createRolloutRepo, type RolloutRecord, type RolloutRepo } from './rollout-repo.js';
import { rolloutConfigOf, type RolloutRequest } from './rollout-request.js';
import type { RolloutState } from './rollout-state.js';
import { RolloutTransitions } from './rollout-transitions.js';
import { rolloutDetailView, rolloutView } from './rollout-views.js';
import type { RolloutDetailJson, RolloutJson } from './schemas.js';
import { supersedeOlder } from './supersede.js';

/** How long a closing hub waits for a rollout being created (its bundle being built). */
export const CLOSE_DRAIN_MS = 5000;

export interface RolloutsDeps {
  store: Store;
  registry: ModelRegistry;
  bundles: Pick<BundleBuilder, 'build'>;
  devices: DeviceRepo;
  presence: DevicePresence;
  commands: DeviceCommands;
  audit: AuditLog;
  events: HubEvents;
  clock: Clock;
  log: HubLogger;
}

export class Rollouts {
  readonly repo: RolloutRepo;
  private readonly transitions: RolloutTransitions;
  private readonly engine: RolloutEngine;
  private readonly sync: DeviceSync;
  private readonly work: InFlight;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly deps: RolloutsDeps) {
    const { store, commands, presence, clock, log } = deps;
    const repo = (this.repo = createRolloutRepo(store.db));
    const transitions = (this.transitions = new RolloutTransitions({ repo, store, audit: deps.audit, events: deps.events, clock }));
    this.engine = new RolloutEngine({ repo, transitions, commands, presence, clock, log });
    this.sync = new DeviceSync({ repo, engine: this.engine, transitions, devices: deps.devices, presence, clock, log });
    this.work = new InFlight((error) => log.error({ err: error }, 'rollout task failed'));
  }

  /** Routes replies and fleet events here, re-owes awaited commands and resumes every unfinished rollout. */
  open(): void {
    const { commands, events } = this.deps;
    const { repo } = this;
    const replies = createDeployReplies({
      repo, engine: this.engine, transitions: this.transitions, devices: this.deps.devices,
      settle: (commandId) => void commands.settle(commandId), clock: this.deps.clock, log: this.deps.log,
    });
    this.engine.confirmServing = (rollout, target) => {
      replies.confirmServing(rollout, target);
      this.engine.advance(rollout.id);
    };
    const guarded = <T>(fn: (payload: T) => void) => (payload: T) => {
      if (this.work.open) fn(payload);
    };
    this.unsubscribe.push(
      commands.onReply(ROLLOUTS_OWNER, (reply, sent) => this.work.open && replies.onReply(reply, sent)),
      events.on('device.online', guarded(({ deviceId }) => this.sync.onOnline(deviceId))),
      events.on('device.offline', guarded(({ deviceId }) => this.sync.onOffline(deviceId))),
      events.on('device.revoked', guarded(({ deviceId }) => this.sync.onRevoked(deviceId))),
      events.on('device.enrolled', guarded(({ deviceId }) => this.sync.join(deviceId))),
      events.on('device.relabelled', guarded(({ deviceId }) => this.sync.join(deviceId))),
    );
    for (const target of repo.withCommand()) {
      const rollout = repo.rollout(target.rolloutId)!;
      const command = commandOf(rollout, target);
      if (command) commands.owe(sentCommand(rollout, target.deviceId, command));
    }
    for (const rollout of repo.live()) this.engine.advance(rollout.id);
    this.engine.schedule();
  }

  /** The broker's `status` handler, after the fleet's: reconciles the device's targets from what it reports. */
  onStatus(deviceId: string): void {
    if (this.work.open) this.sync.onStatus(deviceId);
  }

  async close(): Promise<void> {
    this.work.stop();
    this.engine.stop();
    for (const off of this.unsubscribe.splice(0)) off();
    await this.work.drain(CLOSE_DRAIN_MS, this.deps.clock);
  }

  /**
   * Validates the request, builds the bundle, picks the targets and waves, stores the rollout (audit-logged as
   * `actor`; older rollouts of the model lose the devices it takes over) and starts its first wave. Refuses at once,
   * storing nothing: an unknown model or version (404), a selector that does not parse, waves that are not cumulative
   * (HUB_ERR_ROLLOUT_BAD_REQUEST), a bundle that cannot be built (a tflite of a version never quantized:
   * HUB_ERR_NOT_QUANTIZED). A selector no device matches yet is accepted: devices that join it get the version.
   */
  async create(request: RolloutRequest, actor = 'admin'): Promise<RolloutRecord> {
    return this.work.run(async () => {
      const { registry, bundles, devices, presence, clock, log, audit, events } = this.deps;
      const config = rolloutConfigOf(request);
      const version = registry.resolveVersion(request.model, request.version);
      const model = registry.getModel(version.modelId);
      const build = await bundles.build(version.id, { format: config.format, encoding: config.encoding });
      if (!this.work.open) throw new HubError('HUB_ERR_BROKER_CLOSED', { message: 'the hub is closing' });
      // Picked after the last await: the fleet cannot change between the pick and the insert.
      const matching = devices.list({ selector: parseSelector(config.selector) }).devices;
      const planned = planTargets(matching, (id) => presence.isOnline(id), { manifest: build.manifest, versionId: version.id, waves: config.waves });
      const id = randomUUID();
      const nowMs = clock.now();
      this.transitions.commit(() => {
        this.repo.insert({
          id, modelId: model.id, versionId: version.id, config, nowMs,
          bundle: { manifest: build.manifestBytes, signature: build.signature, payload: build.payload },
        });
        for (const [position, p] of planned.entries()) this.repo.insertTarget({ ...p, rolloutId: id, position }, nowMs);
        audit.record({
          actor, action: 'rollout.created', target: id,
          details: { model: model.name, version: version.version, ...config, targets: planned.length, bundleSha256: build.payload.sha256 },
        });
        const at = new Date(nowMs).toISOString();
        this.transitions.queue(() => events.emit('rollout.created', {
          rolloutId: id, modelId: model.id, versionId: version.id, version: version.version, selector: config.selector,
          targets: planned.length, waves: config.waves.length, at,
        }));
        const takenOver = planned.filter((p) => p.wave > 0 || p.state === 'healthy').map((p) => p.deviceId);
        supersedeOlder({ repo: this.repo, transitions: this.transitions, engine: this.engine }, this.repo.rollout(id)!, new Set(takenOver));
      });
      log.info({ rolloutId: id, model: model.name, version: version.version, targets: planned.length, waves: config.waves.length }, 'rollout created');
      this.engine.advance(id);
      return this.repo.rollout(id)!;
    });
  }

  /** Stops sending new commands (commands already out finish; failures still count and may abort). */
  pause(id: string, actor = 'admin', reason?: string): RolloutRecord {
    this.requireState(id, ['running'], 'pause');
    this.transitions.moveRollout(id, 'paused', { actor });
    this.deps.audit.record({ actor, action: 'rollout.paused', target: id, details: reason ? { reason } : {} });
    return this.get(id);
  }

  resume(id: string, actor = 'admin', reason?: string): RolloutRecord {
    this.requireState(id, ['paused'], 'resume');
    this.transitions.moveRollout(id, 'running', { actor, failure: null });
    this.deps.audit.record({ actor, action: 'rollout.resumed', target: id, details: reason ? { reason } : {} });
    this.engine.sendDue(this.get(id), this.repo.targets(id));
    this.engine.advance(id);
    return this.get(id);
  }

  /** Aborts: every device the rollout changed is sent RollbackModel, the rest are skipped (HUB_ERR_ROLLOUT_ABORTED). */
  abort(id: string, actor = 'admin', reason = 'aborted by an operator'): RolloutRecord {
    this.requireState(id, ['running', 'paused', 'completed'], 'abort');
    this.engine.abort(id, { code: 'HUB_ERR_ROLLOUT_ABORTED', message: reason }, actor);
    this.deps.audit.record({ actor, action: 'rollout.aborted', target: id, details: { reason } });
    return this.get(id);
  }

  /** @throws HubError HUB_ERR_ROLLOUT_NOT_FOUND */
  get(id: string): RolloutRecord {
    const rollout = this.repo.rollout(id);
    if (!rollout) throw new HubError('HUB_ERR_ROLLOUT_NOT_FOUND', { message: `no rollout ${JSON.stringify(id)}` });
    return rollout;
  }

  view(id: string): RolloutJson {
    return rolloutView(this.viewDeps(), this.get(id));
  }

  detail(id: string): RolloutDetailJson {
    return rolloutDetailView(this.viewDeps(), this.get(id));
  }

  list(query: { state?: RolloutState; limit: number }): RolloutJson[] {
    return this.repo.list(query.limit, query.state).map((r) => rolloutView(this.viewDeps(), r));
  }

  private viewDeps() {
    return { repo: this.repo, registry: this.deps.registry, devices: this.deps.devices };
  }

  private requireState(id: string, allowed: readonly RolloutState[], action: string): void {
    const { state } = this.get(id);
    if (!allowed.includes(state)) {
      throw new HubError('HUB_ERR_ROLLOUT_STATE', { message: `cannot ${action} a rollout that is ${state}`, details: { state } });
    }
  }
}
