/**
 * What the hub keeps in memory about each running round beside its stored state: its timers (the current phase's
 * selection retry or deadline, and the rejoin grace) and which evaluations ended without a result. Lost with the
 * process by design: a resumed round re-arms its timers from the stored deadlines.
 */
import type { Clock, TimerHandle } from '../clock.js';

/** `timer` for the round's current phase (selection retry, deadline), `graceTimer` for the rejoin grace. */
export type TimerSlot = 'timer' | 'graceTimer';

export interface RoundRuntime {
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

export class RoundRuntimes {
  private readonly runtimes = new Map<string, RoundRuntime>();

  /** @param mayFire Checked when a timer is armed and when it falls due: a closing hub arms and fires none. */
  constructor(private readonly clock: Clock, private readonly mayFire: () => boolean) {}

  of(roundId: string): RoundRuntime {
    let rt = this.runtimes.get(roundId);
    if (!rt) this.runtimes.set(roundId, (rt = { evalSettled: new Set(), evalOffline: new Set(), selecting: false }));
    return rt;
  }

  /** Calls `fn` at `atMs` (at once when that has passed), replacing the slot's previous timer. None on a closing hub. */
  arm(roundId: string, atMs: number, fn: () => void, slot: TimerSlot = 'timer'): void {
    if (!this.mayFire()) return;
    const rt = this.of(roundId);
    const previous = rt[slot];
    if (previous) this.clock.clearTimer(previous);
    rt[slot] = this.clock.setTimeout(() => {
      rt[slot] = undefined;
      if (this.mayFire()) fn();
    }, Math.max(0, atMs - this.clock.now()));
  }

  isArmed(roundId: string, slot: TimerSlot): boolean {
    return this.runtimes.get(roundId)?.[slot] !== undefined;
  }

  /** Cancels the given timers of a round (default: its phase timer). */
  clear(roundId: string, ...slots: TimerSlot[]): void {
    const rt = this.runtimes.get(roundId);
    if (!rt) return;
    for (const slot of slots.length > 0 ? slots : (['timer'] as const)) {
      const handle = rt[slot];
      if (handle) this.clock.clearTimer(handle);
      rt[slot] = undefined;
    }
  }

  /** A round that ended: its timers are cancelled and its memory dropped. */
  forget(roundId: string): void {
    this.clear(roundId, 'timer', 'graceTimer');
    this.runtimes.delete(roundId);
  }

  forgetAll(): void {
    for (const roundId of [...this.runtimes.keys()]) this.forget(roundId);
  }
}
