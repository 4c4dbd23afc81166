/**
 * The one writer of rollout, wave and target states (STYLE 15): every change is checked against rollout-state.ts,
 * audit-logged (actor `hub` unless an operator acted) and announced — the event only once the transaction that
 * wrote it committed (`commit`), never for a change that was rolled back.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { HubErrorCode } from '../errors.js';
import type { HubEvents } from '../events/hub-events.js';
import type { Store } from '../store/store.js';
import type { RolloutRecord, RolloutRepo, TargetFields, TargetRecord, WaveRecord } from './rollout-repo.js';
import {
  checkRolloutTransition, checkTargetTransition, checkWaveTransition, isRolloutFinished, type RolloutState, type TargetState,
  type WaveState,
} from './rollout-state.js';
import { tallyOf } from './target-counts.js';
import './rollout-events.js';

/** Why a rollout ended or a target failed: a stable code and its text. */
export interface RolloutFailure {
  code: HubErrorCode | string;
  message: string;
}

export interface RolloutTransitionsDeps {
  repo: RolloutRepo;
  store: Pick<Store, 'transaction'>;
  audit: AuditLog;
  events: HubEvents;
  clock: Clock;
}

export class RolloutTransitions {
  private queued: (() => void)[] = [];
  private depth = 0;

  constructor(private readonly deps: RolloutTransitionsDeps) {}

  /** Runs `fn` in one transaction (joins an outer one); the events of its moves go out after the outermost commits. */
  commit<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth++;
    let result: T;
    try {
      result = this.deps.store.transaction(fn);
    } catch (error) {
      this.queued = [];
      throw error;
    } finally {
      this.depth--;
    }
    for (const emit of this.queued.splice(0)) emit();
    return result;
  }

  moveRollout(
    id: string, to: RolloutState, change: { currentWave?: number; failure?: RolloutFailure | null; actor?: string } = {},
  ): RolloutRecord {
    return this.commit(() => {
      const { repo, audit } = this.deps;
      const current = repo.rollout(id);
      if (!current) throw new Error(`no rollout ${id}`);
      if (current.state !== to) checkRolloutTransition(id, current.state, to);
      const currentWave = change.currentWave ?? current.currentWave;
      const failure = change.failure === undefined ? { code: current.errorCode, message: current.reason } : change.failure;
      repo.setRollout(id, { state: to, currentWave, errorCode: failure?.code ?? null, reason: failure?.message ?? null }, this.nowMs());
      audit.record({
        actor: change.actor ?? 'hub', action: 'rollout.state', target: id,
        details: { from: current.state, to, currentWave, ...(failure?.code ? { errorCode: failure.code, reason: failure.message } : {}) },
      });
      const at = this.iso();
      this.queue(() => this.deps.events.emit('rollout.state', {
        rolloutId: id, state: to, currentWave, errorCode: failure?.code ?? null, reason: failure?.message ?? null, at,
      }));
      // A rollout that ends other than completed ends its waves still open with it.
      if (isRolloutFinished(to)) {
        for (const wave of repo.waves(id)) if (wave.state !== 'passed' && wave.state !== 'aborted') this.moveWave(wave, 'aborted');
      }
      return repo.rollout(id)!;
    });
  }

  moveWave(wave: WaveRecord, to: WaveState, patch: Partial<Pick<WaveRecord, 'soakEndsAtMs' | 'shadowVerdict'>> = {}): WaveRecord {
    return this.commit(() => {
      const { repo, audit } = this.deps;
      const current = repo.wave(wave.rolloutId, wave.wave)!;
      checkWaveTransition(`${wave.rolloutId}#${wave.wave}`, current.state, to);
      const nowMs = this.nowMs();
      const next: WaveRecord = {
        ...current, ...patch, state: to,
        startedAtMs: current.startedAtMs ?? (to === 'aborted' ? null : nowMs),
        finishedAtMs: to === 'passed' || to === 'aborted' ? nowMs : null,
        // The soak of a soaking wave, or the shortest shadow run of a shadowing one; nothing to wait for otherwise.
        soakEndsAtMs: to === 'soaking' || to === 'shadowing' ? (patch.soakEndsAtMs ?? current.soakEndsAtMs) : null,
      };
      repo.setWave(next);
      audit.record({ actor: 'hub', action: 'rollout.wave', target: wave.rolloutId, details: { wave: wave.wave, from: current.state, to } });
      const waves = repo.waves(wave.rolloutId).length;
      const tally = tallyOf(repo.tally(wave.rolloutId), wave.wave);
      const at = this.iso();
      this.queue(() => this.deps.events.emit('rollout.wave', {
        rolloutId: wave.rolloutId, wave: wave.wave, waves, state: to, size: tally.counts.total - tally.counts.skipped,
        healthy: tally.healthy, failed: tally.failed, counts: tally.counts, at,
      }));
      return next;
    });
  }

  /**
   * Moves a target to `to` and writes `patch` with it (a failure's code and reason, a verdict, …). A target already
   * in `to` is only patched, and announced only when its code or reason changed.
   */
  moveTarget(target: TargetRecord, to: TargetState, patch: Partial<Omit<TargetFields, 'state'>> = {}): TargetRecord {
    return this.commit(() => {
      const { repo, audit } = this.deps;
      const current = repo.target(target.rolloutId, target.deviceId)!;
      checkTargetTransition(`${target.rolloutId}/${target.deviceId}`, current.state, to);
      const moved = repo.patchTarget(target.rolloutId, target.deviceId, { ...patch, state: to }, this.nowMs());
      if (current.state === to && current.errorCode === moved.errorCode && current.reason === moved.reason) return moved;
      this.announceTarget(moved, current.state);
      return moved;
    });
  }

  /** Adds a target to a rollout after its creation (continuous deployment), audited and announced like a move. */
  addTarget(t: Parameters<RolloutRepo['insertTarget']>[0]): TargetRecord {
    return this.commit(() => {
      this.deps.repo.insertTarget(t, this.nowMs());
      const added = this.deps.repo.target(t.rolloutId, t.deviceId)!;
      this.announceTarget(added, null);
      return added;
    });
  }

  /** Audits and (after the commit) announces the target's move from `from` to the state it now has. */
  private announceTarget(t: TargetRecord, from: TargetState | null): void {
    const { repo, audit } = this.deps;
    audit.record({
      actor: 'hub', action: 'rollout.target', target: t.rolloutId,
      details: { deviceId: t.deviceId, wave: t.wave, from, to: t.state, errorCode: t.errorCode, reason: t.reason },
    });
    const { counts } = tallyOf(repo.tally(t.rolloutId));
    const at = this.iso();
    this.queue(() => this.deps.events.emit('rollout.target', {
      rolloutId: t.rolloutId, deviceId: t.deviceId, wave: t.wave, from, state: t.state, errorCode: t.errorCode, reason: t.reason, counts, at,
    }));
  }

  /** Queues an announcement for after the commit (emitted at once outside a transaction). */
  queue(emit: () => void): void {
    if (this.depth > 0) this.queued.push(emit);
    else emit();
  }

  private nowMs(): number {
    return this.deps.clock.now();
  }

  private iso(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
