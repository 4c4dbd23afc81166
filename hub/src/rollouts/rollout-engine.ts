/**
 * What moves a rollout (issue 10 item 4, hub/docs/rollouts.md): its waves one after another — start, (shadow,)
 * deploy, soak, pass — the commands of its targets (DeployModel, RollbackModel, retries of busy devices, timeouts of
 * online devices that do not answer), and its end: completed, or aborted with every device it changed rolled back.
 * Every change is committed (rollout-transitions.ts) before its command goes out or its event is emitted. Timers are
 * one clock timer at the earliest stored deadline, retry or soak end, so a restarted hub recomputes them from the rows.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { DeviceCommands } from '../commands/device-commands.js';
import type { DevicePresence } from '../fleet/liveness.js';
import type { HubLogger } from '../logger.js';
import { pooledShadow, shadowVerdict } from './health-gate.js';
import { cancelOn, deployCommand, newCommandId, rollbackCommand, sentCommand } from './rollout-commands.js';
import type { RolloutRecord, RolloutRepo, TargetRecord, WaveRecord } from './rollout-repo.js';
import { isRolloutFinished, isUnsettled } from './rollout-state.js';
import type { RolloutFailure, RolloutTransitions } from './rollout-transitions.js';
import { waveOutcome } from './wave-verdict.js';

/** Longest wait before a busy device is asked again. */
export const MAX_RETRY_DELAY_MS = 60_000;
const FIRST_RETRY_DELAY_MS = 5_000;

export interface RolloutEngineDeps {
  repo: RolloutRepo;
  transitions: RolloutTransitions;
  commands: DeviceCommands;
  presence: DevicePresence;
  clock: Clock;
  log: HubLogger;
}

/** Waves in which a rollout's commands are out: a target of such a wave may be sent its command. */
const ACTIVE_WAVE_STATES: readonly WaveRecord['state'][] = ['shadowing', 'deploying', 'soaking', 'passed'];

export class RolloutEngine {
  /** What a target confirmed serving by its Status becomes when no ACTIVATED report came by its deadline (deploy-replies.ts). */
  confirmServing: (rollout: RolloutRecord, target: TargetRecord) => void = () => {};
  private timer: TimerHandle | undefined;
  private timerDueMs: number | undefined;
  private stopped = false;

  constructor(private readonly deps: RolloutEngineDeps) {}

  stop(): void {
    this.stopped = true;
    if (this.timer) this.deps.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** Whether a target may be sent its deploy command now: its rollout runs (or completed) and its wave has started. */
  canDeploy(rollout: RolloutRecord, target: TargetRecord): boolean {
    if (target.wave === 0 || target.state !== 'pending' || target.commandId) return false;
    if (rollout.state === 'completed') return rollout.config.continuous;
    if (rollout.state !== 'running' || target.wave > rollout.currentWave) return false;
    return ACTIVE_WAVE_STATES.includes(this.deps.repo.wave(rollout.id, target.wave)?.state ?? 'pending');
  }

  /**
   * Sends the target its DeployModel under a new command id; an online device's answer is due within deviceTimeoutSec,
   * and the command carries that deadline (rollout-commands.ts).
   */
  sendDeploy(rollout: RolloutRecord, target: TargetRecord): void {
    const { repo, transitions, clock, presence } = this.deps;
    const commandId = newCommandId();
    transitions.commit(() => {
      const deadline = target.deadlineAtMs ?? (presence.isOnline(target.deviceId) ? clock.now() + rollout.config.deviceTimeoutSec * 1000 : null);
      const sent = repo.patchTarget(rollout.id, target.deviceId, {
        commandId, commandKind: 'deploy', attempts: target.attempts + 1, deadlineAtMs: deadline, retryAtMs: null,
      }, clock.now());
      transitions.queue(() => void this.deps.commands.send(sentCommand(rollout, target.deviceId, deployCommand(commandId, rollout, sent))));
    });
    this.schedule();
  }

  /**
   * A returning device whose deploy has no live deadline (it passed while the device was away, or the command went
   * out while it was offline): the device may have given up, or may run with no deadline, so the fresh window the hub
   * grants it is a new command carrying it — the old one is dropped (cancelled on the device) first.
   */
  redeploy(rollout: RolloutRecord, target: TargetRecord, reason: string): void {
    const pending = this.deps.transitions.commit(() => {
      this.dropCommand(target, reason);
      return this.deps.transitions.moveTarget(target, 'pending', { commandId: null, deadlineAtMs: null, retryAtMs: null });
    });
    this.sendDeploy(rollout, pending);
  }

  /**
   * Moves the target to rolling-back and sends it RollbackModel (a command it was running is cancelled first).
   * `patch` records why (a failed gate keeps its verdict and code).
   */
  sendRollback(rollout: RolloutRecord, target: TargetRecord, reason: string, patch: Partial<TargetRecord> = {}): void {
    const { transitions } = this.deps;
    const commandId = newCommandId();
    transitions.commit(() => {
      this.dropCommand(target, reason);
      transitions.moveTarget(target, 'rolling-back', {
        reason, ...patch, commandId, commandKind: 'rollback', attempts: target.attempts + 1, deadlineAtMs: null, retryAtMs: null,
      });
      transitions.queue(() => void this.deps.commands.send(sentCommand(rollout, target.deviceId, rollbackCommand(commandId, rollout, reason))));
    });
  }

  /** The target's command was answered: no more re-sends, its further replies are not routed (after the commit). */
  settleCommand(target: TargetRecord): void {
    const { commandId } = target;
    if (commandId) this.deps.transitions.queue(() => void this.deps.commands.settle(commandId));
  }

  /** Forgets the target's command at the commands capability; a deploy the device may still run is cancelled on it. */
  dropCommand(target: TargetRecord, reason: string): void {
    if (!target.commandId) return;
    const { commandId, commandKind, deviceId } = target;
    this.deps.transitions.queue(() => {
      this.deps.commands.settle(commandId);
      if (commandKind === 'deploy' && isUnsettled(target.state)) cancelOn(this.deps.commands, deviceId, commandId, reason);
    });
  }

  /** A busy device (AGENT_ERR_BUSY) is asked again later; not a failure. */
  retryLater(rollout: RolloutRecord, target: TargetRecord, reason: string): void {
    const { transitions, clock } = this.deps;
    const delayMs = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** Math.max(0, target.attempts - 1));
    transitions.commit(() => {
      this.settleCommand(target);
      const patch = { commandId: null, reason, retryAtMs: clock.now() + delayMs };
      if (target.commandKind === 'rollback') this.deps.repo.patchTarget(rollout.id, target.deviceId, patch, clock.now());
      else transitions.moveTarget(target, 'pending', patch);
    });
    this.schedule();
  }

  /** Ends the rollout `aborted`: unsent targets are skipped, every device it may have changed is rolled back. */
  abort(rolloutId: string, failure: RolloutFailure, actor = 'hub'): void {
    const { repo, transitions, log } = this.deps;
    transitions.commit(() => {
      const rollout = repo.rollout(rolloutId);
      if (!rollout || isRolloutFinished(rollout.state)) return;
      transitions.moveRollout(rolloutId, 'aborted', { failure, actor });
      const aborted = repo.rollout(rolloutId)!;
      for (const target of repo.targets(rolloutId)) this.abortTarget(aborted, target, failure);
    });
    log.warn({ rolloutId, code: failure.code, reason: failure.message }, 'rollout aborted');
    this.schedule();
  }

  private abortTarget(rollout: RolloutRecord, target: TargetRecord, failure: RolloutFailure): void {
    const reason = `rollout aborted: ${failure.message}`;
    const mayHaveChanged = target.changed || (target.attempts > 0 && (isUnsettled(target.state) || target.errorCode === 'HUB_ERR_ROLLOUT_DEVICE_TIMEOUT'));
    if (target.state === 'rolling-back' || target.state === 'rolled-back' || target.state === 'skipped') return;
    // A failed device keeps the reason it failed with; the RollbackModel says why it is sent.
    if (mayHaveChanged && target.wave > 0) return this.sendRollback(rollout, target, reason, target.verdict === 'failed' ? { reason: target.reason } : {});
    if (isUnsettled(target.state)) {
      this.dropCommand(target, reason);
      this.deps.transitions.moveTarget(target, 'skipped', {
        errorCode: 'HUB_ERR_ROLLOUT_ABORTED', reason, commandId: null, deadlineAtMs: null, retryAtMs: null,
      });
    }
  }

  /**
   * Takes the rollout as far as its targets allow now: starts the next wave, judges a shadow, passes a wave, soaks,
   * completes, or aborts on a threshold. Called after every change that can matter; does nothing when nothing can.
   */
  advance(rolloutId: string): void {
    if (this.stopped) return;
    for (let step = 0; step < 4 * 64; step++) {
      const rollout = this.deps.repo.rollout(rolloutId);
      if (!rollout || rollout.state === 'completed' || isRolloutFinished(rollout.state) || !this.step(rollout)) break;
    }
    this.schedule();
  }

  /** One step; false when the rollout must wait for something. */
  private step(rollout: RolloutRecord): boolean {
    const { repo, transitions, clock } = this.deps;
    const running = rollout.state === 'running';
    const waves = rollout.config.waves;
    if (rollout.currentWave === 0) {
      if (running) transitions.moveRollout(rollout.id, 'running', { currentWave: 1 });
      return running;
    }
    const wave = repo.wave(rollout.id, rollout.currentWave)!;
    const config = waves[wave.wave - 1]!;
    const targets = repo.targets(rollout.id);
    const outcome = waveOutcome(wave.wave, config, targets, (id) => this.deps.presence.isOnline(id));
    if (outcome.kind === 'abort' && wave.state !== 'pending' && wave.state !== 'passed') {
      this.abort(rollout.id, { code: outcome.code, message: outcome.reason });
      return false;
    }
    switch (wave.state) {
      case 'pending':
        if (running) this.startWave(rollout, wave, targets);
        return running;
      case 'shadowing':
        return running && this.judgeShadow(rollout, wave, targets);
      case 'deploying':
        if (outcome.kind !== 'pass') return false;
        if (config.soakSec > 0) transitions.moveWave(wave, 'soaking', { soakEndsAtMs: clock.now() + config.soakSec * 1000 });
        else transitions.moveWave(wave, 'passed');
        return true;
      case 'soaking':
        if (outcome.kind === 'wait') transitions.moveWave(wave, 'deploying');
        else if (clock.now() >= (wave.soakEndsAtMs ?? 0)) transitions.moveWave(wave, 'passed');
        else return false;
        return true;
      case 'passed':
        if (!running) return false;
        if (wave.wave >= waves.length) this.complete(rollout);
        else transitions.moveRollout(rollout.id, 'running', { currentWave: wave.wave + 1 });
        return wave.wave < waves.length;
      default:
        return false;
    }
  }

  private startWave(rollout: RolloutRecord, wave: WaveRecord, targets: TargetRecord[]): void {
    const { shadow, soakSec } = rollout.config.waves[wave.wave - 1]!;
    this.deps.transitions.commit(() => {
      if (shadow) this.deps.transitions.moveWave(wave, 'shadowing', { soakEndsAtMs: this.deps.clock.now() + soakSec * 1000 });
      else this.deps.transitions.moveWave(wave, 'deploying');
      this.sendDue(this.deps.repo.rollout(rollout.id)!, targets.filter((t) => t.wave === wave.wave));
    });
    this.deps.log.info({ rolloutId: rollout.id, wave: wave.wave, shadow: Boolean(shadow) }, 'rollout wave started');
  }

  /** Sends their deploy command to the online targets among `targets` that may get it now. */
  sendDue(rollout: RolloutRecord, targets: readonly TargetRecord[]): void {
    for (const target of targets) {
      if (this.canDeploy(rollout, target) && target.retryAtMs === null && this.deps.presence.isOnline(target.deviceId)) this.sendDeploy(rollout, target);
    }
  }

  /**
   * A shadow wave is judged once every online device of it is shadowing with at least minInferences (or its
   * deviceTimeoutSec ran out) and its soak time passed: a challenger worse than allowed aborts the rollout — the
   * RollbackModel ends each shadow before any device switched — else the wave goes on in ACTIVATE mode.
   */
  private judgeShadow(rollout: RolloutRecord, wave: WaveRecord, targets: TargetRecord[]): boolean {
    const { transitions, clock, presence } = this.deps;
    const config = rollout.config.waves[wave.wave - 1]!;
    const shadow = config.shadow!;
    const ofWave = targets.filter((t) => t.wave === wave.wave && t.state !== 'skipped');
    const nowMs = clock.now();
    const ready = (t: TargetRecord) => t.state === 'shadowing' && ((t.shadow?.inferences ?? 0) >= shadow.minInferences || (t.deadlineAtMs ?? 0) <= nowMs);
    const waiting = ofWave.filter((t) => t.verdict === null && !ready(t));
    if (waiting.some((t) => presence.isOnline(t.deviceId)) || nowMs < (wave.soakEndsAtMs ?? 0)) return false;
    const shadowing = ofWave.filter((t) => t.state === 'shadowing');
    if (shadowing.length === 0 && waiting.length > 0) return false;
    const result = pooledShadow(shadowing.map((t) => t.shadow));
    const verdict = shadowVerdict(result, shadow.maxAccuracyDropPts);
    if (!verdict.promote) {
      transitions.commit(() => {
        transitions.moveWave(wave, 'aborted', { shadowVerdict: 'worse' });
        this.abort(rollout.id, { code: 'HUB_ERR_ROLLOUT_SHADOW_WORSE', message: `wave ${wave.wave} shadow: ${verdict.reason}` });
      });
      return false;
    }
    transitions.commit(() => {
      transitions.moveWave(wave, 'deploying', { shadowVerdict: 'promoted' });
      for (const target of ofWave) {
        if (target.mode !== 'shadow') continue;
        if (target.state === 'shadowing') {
          this.dropCommand(target, 'shadow promoted');
          transitions.moveTarget(target, 'pending', {
            mode: 'activate', reason: `shadow promoted: ${verdict.reason}`, commandId: null, deadlineAtMs: null,
          });
        } else {
          this.deps.repo.patchTarget(rollout.id, target.deviceId, { mode: 'activate' }, nowMs);
        }
      }
      this.sendDue(this.deps.repo.rollout(rollout.id)!, this.deps.repo.targets(rollout.id).filter((t) => t.wave === wave.wave));
    });
    this.deps.log.info({ rolloutId: rollout.id, wave: wave.wave, ...result }, 'shadow promoted');
    return true;
  }

  private complete(rollout: RolloutRecord): void {
    const { transitions, repo } = this.deps;
    transitions.commit(() => {
      transitions.moveRollout(rollout.id, 'completed');
      if (rollout.config.continuous) return;
      // Without continuous deployment the rollout ends here: a device still offline will not get it.
      for (const target of repo.targets(rollout.id)) {
        if (target.state === 'pending' && !target.commandId) {
          transitions.moveTarget(target, 'skipped', { reason: 'the rollout completed before the device came back', retryAtMs: null, deadlineAtMs: null });
        }
      }
    });
    this.deps.log.info({ rolloutId: rollout.id }, 'rollout completed');
  }

  /** Deadlines, retries and soak ends that fell due: timeouts, re-sends, judged waves. */
  onTimer(): void {
    this.timer = undefined;
    this.timerDueMs = undefined;
    if (this.stopped) return;
    const { repo, clock, presence, transitions } = this.deps;
    const nowMs = clock.now();
    const touched = new Set<string>();
    for (const target of repo.dueTargets(nowMs)) {
      const rollout = repo.rollout(target.rolloutId)!;
      touched.add(rollout.id);
      const online = presence.isOnline(target.deviceId);
      if (target.retryAtMs !== null && target.retryAtMs <= nowMs) {
        repo.patchTarget(rollout.id, target.deviceId, { retryAtMs: null }, nowMs);
        const fresh = repo.target(rollout.id, target.deviceId)!;
        if (!online) continue;
        if (fresh.state === 'rolling-back' && !fresh.commandId) this.sendRollback(rollout, fresh, fresh.reason ?? 'rollback');
        else if (this.canDeploy(rollout, fresh)) this.sendDeploy(rollout, fresh);
        continue;
      }
      if (target.deadlineAtMs === null || target.deadlineAtMs > nowMs) continue;
      if (!online || target.state === 'shadowing' || !isUnsettled(target.state)) {
        // Offline devices do not time out (they get a fresh window when they return); a shadow is judged without more.
        repo.patchTarget(rollout.id, target.deviceId, { deadlineAtMs: null }, nowMs);
        continue;
      }
      if (target.state === 'activated') {
        this.confirmServing(rollout, target);
        continue;
      }
      const message = `no answer within ${rollout.config.deviceTimeoutSec} s`;
      transitions.commit(() => {
        this.dropCommand(target, message);
        transitions.moveTarget(target, 'failed', {
          verdict: 'failed', errorCode: 'HUB_ERR_ROLLOUT_DEVICE_TIMEOUT', reason: message, commandId: null, deadlineAtMs: null,
        });
      });
    }
    for (const rollout of repo.live()) if (rollout.state !== 'completed') touched.add(rollout.id);
    for (const id of touched) this.advance(id);
    this.schedule();
  }

  /** Arms the one timer at the earliest stored deadline, retry or soak end. */
  schedule(): void {
    if (this.stopped) return;
    const dueMs = this.deps.repo.nextDueMs();
    if (dueMs === this.timerDueMs && this.timer) return;
    if (this.timer) this.deps.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerDueMs = dueMs;
    if (dueMs === undefined) return;
    this.timer = this.deps.clock.setTimeout(() => this.onTimer(), Math.max(0, dueMs - this.deps.clock.now()));
  }
}
