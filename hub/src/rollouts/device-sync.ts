/**
 * Rollouts follow the fleet: a device that comes back online gets what it is owed (its command re-sent by the
 * commands capability while its deadline stands, else sent again as a new command with a fresh deviceTimeoutSec, or
 * first sent now); one that goes offline stops holding its wave up; a revoked one is skipped. Its Status reconciles
 * its targets after lost messages or a hub restart (DESIGN §5): showing the version marks an install `activated` (the
 * health gate still waits for the ACTIVATED report, or the command's end, or the deadline), no longer showing it
 * confirms a rollback, or fails a healthy device while its wave is still judged. Devices that enroll, come online or
 * are relabelled into a continuous rollout's selector become its targets (continuous deployment, as Greengrass does
 * for thing groups): the newest such rollout of a model claims them.
 */
import { parseManifest, type BundleManifest } from '@fedfleet/proto';
import type { Clock } from '../clock.js';
import type { DeviceRepo } from '../fleet/device-repo.js';
import { matchesSelector, parseSelector } from '../fleet/label-selector.js';
import type { DevicePresence } from '../fleet/liveness.js';
import type { HubLogger } from '../logger.js';
import type { RolloutEngine } from './rollout-engine.js';
import { modeOf, servesVersion, waveZeroTarget, type PlannedTarget } from './rollout-plan.js';
import type { RolloutRecord, RolloutRepo, TargetRecord } from './rollout-repo.js';
import { isRolloutFinished, isUnsettled } from './rollout-state.js';
import type { RolloutTransitions } from './rollout-transitions.js';
import { newerOwns, supersedeOlder } from './supersede.js';

export interface DeviceSyncDeps {
  repo: RolloutRepo;
  engine: RolloutEngine;
  transitions: RolloutTransitions;
  devices: Pick<DeviceRepo, 'get'>;
  presence: DevicePresence;
  clock: Clock;
  log: HubLogger;
}

export class DeviceSync {
  private readonly manifests = new Map<string, BundleManifest>();

  constructor(private readonly deps: DeviceSyncDeps) {}

  onOnline(deviceId: string): void {
    const { repo, engine, clock } = this.deps;
    const touched = new Set<string>();
    for (const target of repo.ofDevice(deviceId)) {
      const rollout = repo.rollout(target.rolloutId)!;
      if (isRolloutFinished(rollout.state) && target.state !== 'rolling-back') continue;
      touched.add(rollout.id);
      const freshDeadline = clock.now() + rollout.config.deviceTimeoutSec * 1000;
      if (target.state === 'activated') {
        repo.patchTarget(rollout.id, deviceId, { deadlineAtMs: freshDeadline }, clock.now());
      } else if (isUnsettled(target.state) && target.state !== 'shadowing' && target.commandId) {
        // A live deadline stands: the device enforces the one its command carries. Else a fresh window, as a new command.
        if ((target.deadlineAtMs ?? 0) <= clock.now()) engine.redeploy(rollout, target, 'sent again with a fresh deadline: the device was away');
      } else if (target.state === 'rolling-back' && !target.commandId && target.retryAtMs === null) {
        engine.sendRollback(rollout, target, target.reason ?? 'rollback');
      } else if (target.retryAtMs === null && engine.canDeploy(rollout, target)) {
        engine.sendDeploy(rollout, repo.patchTarget(rollout.id, deviceId, { deadlineAtMs: null }, clock.now()));
      }
    }
    this.join(deviceId);
    for (const id of touched) engine.advance(id);
  }

  onOffline(deviceId: string): void {
    for (const id of new Set(this.deps.repo.ofDevice(deviceId).filter((t) => isUnsettled(t.state)).map((t) => t.rolloutId))) {
      this.deps.engine.advance(id);
    }
  }

  onRevoked(deviceId: string): void {
    const { repo, transitions, engine } = this.deps;
    const touched = new Set<string>();
    transitions.commit(() => {
      for (const target of repo.ofDevice(deviceId)) {
        if (!isUnsettled(target.state) && target.state !== 'rolling-back') continue;
        engine.settleCommand(target);
        transitions.moveTarget(target, target.state === 'rolling-back' ? 'failed' : 'skipped', {
          errorCode: 'HUB_ERR_ROLLOUT_DEVICE_REVOKED', reason: 'the device was revoked', commandId: null, deadlineAtMs: null, retryAtMs: null,
        });
        touched.add(target.rolloutId);
      }
    });
    for (const id of touched) engine.advance(id);
  }

  /** After the fleet applied a Status (the device record holds what it reports). */
  onStatus(deviceId: string): void {
    const { repo, transitions, engine, clock } = this.deps;
    const device = this.deps.devices.get(deviceId);
    if (!device || !this.deps.presence.isOnline(deviceId)) return;
    const touched = new Set<string>();
    for (const target of repo.ofDevice(deviceId)) {
      const rollout = repo.rollout(target.rolloutId)!;
      const serving = servesVersion(device, rollout.versionId, rollout.bundle.payload.sha256 ?? '');
      const shadowing = device.shadowVersionId === rollout.versionId;
      if (target.state === 'rolling-back' && target.changed && !serving && !shadowing) {
        // The ROLLED_BACK report was lost (or is behind this Status): the device is off the version.
        transitions.commit(() => {
          engine.settleCommand(target);
          transitions.moveTarget(target, 'rolled-back', { commandId: null, deadlineAtMs: null, retryAtMs: null, reason: `${target.reason ?? 'rollback'} (confirmed by Status)` });
        });
        touched.add(rollout.id);
        continue;
      }
      if (isRolloutFinished(rollout.state) || target.wave === 0) continue;
      if (serving && isUnsettled(target.state) && target.state !== 'activated' && target.state !== 'shadowing') {
        const deadlineAtMs = target.deadlineAtMs ?? clock.now() + rollout.config.deviceTimeoutSec * 1000;
        transitions.moveTarget(target, 'activated', {
          changed: target.attempts > 0, deadlineAtMs, reason: 'serving the version (Status); awaiting its self-test report',
        });
        touched.add(rollout.id);
      } else if (!serving && target.state === 'healthy' && target.verdict === 'healthy' && target.changed && this.waveJudged(rollout, target)
        && !newerOwns(repo, rollout, deviceId)) {
        transitions.moveTarget(target, 'failed', {
          verdict: 'failed', errorCode: 'HUB_ERR_ROLLOUT_NOT_SERVING',
          reason: `its Status shows ${device.activeVersionId ?? 'no version'} serving, not the rollout's version`,
        });
        touched.add(rollout.id);
      }
    }
    for (const id of touched) engine.advance(id);
  }

  /** Whether the target's wave is still deploying or soaking (a device that stops serving then counts as failed). */
  private waveJudged(rollout: RolloutRecord, target: TargetRecord): boolean {
    const state = this.deps.repo.wave(rollout.id, target.wave)?.state;
    return (rollout.state === 'running' || rollout.state === 'paused') && (state === 'deploying' || state === 'soaking');
  }

  /** Continuous deployment: the device becomes a target of the newest continuous rollout of each model it matches. */
  join(deviceId: string): void {
    const { repo, transitions, engine, clock, log } = this.deps;
    const device = this.deps.devices.get(deviceId);
    if (!device) return;
    const claimed = new Set<string>();
    const live = repo.live().filter((r) => r.config.continuous).reverse();
    for (const rollout of live) {
      if (claimed.has(rollout.modelId) || !matchesSelector(parseSelector(rollout.config.selector), device.labels)) continue;
      claimed.add(rollout.modelId);
      if (repo.target(rollout.id, deviceId)) continue;
      const waves = rollout.config.waves;
      const lastWave = repo.wave(rollout.id, waves.length)!;
      const planned: PlannedTarget = waveZeroTarget(device, { manifest: this.manifestOf(rollout), versionId: rollout.versionId, waves }) ?? {
        deviceId, wave: waves.length, mode: lastWave.state === 'pending' || lastWave.state === 'shadowing' ? modeOf(waves.at(-1)) : 'activate',
        state: 'pending', verdict: null, errorCode: null, reason: 'joined the selector',
      };
      transitions.commit(() => {
        transitions.addTarget({ ...planned, rolloutId: rollout.id, position: repo.nextPosition(rollout.id) });
        if (planned.wave > 0) supersedeOlder({ repo, transitions, engine }, rollout, new Set([deviceId]));
      });
      log.info({ rolloutId: rollout.id, deviceId, state: planned.state, reason: planned.reason }, 'device joined a continuous rollout');
      const target = repo.target(rollout.id, deviceId)!;
      if (this.deps.presence.isOnline(deviceId)) engine.sendDue(repo.rollout(rollout.id)!, [target]);
      engine.advance(rollout.id);
    }
  }

  private manifestOf(rollout: RolloutRecord): BundleManifest {
    let manifest = this.manifests.get(rollout.id);
    if (!manifest) this.manifests.set(rollout.id, (manifest = parseManifest(rollout.bundle.manifest)));
    return manifest;
  }
}
