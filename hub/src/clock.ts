/**
 * Time, injected. Everything in the hub that reads the time or waits goes through a {@link Clock}, so tests drive
 * heartbeats, batching and retention with a {@link ManualClock} instead of sleeping.
 */
export type TimerHandle = { readonly __timer: unique symbol };

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once after `delayMs`. Timers never keep the process alive. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  /** Calls `fn` every `intervalMs`. */
  setInterval(fn: () => void, intervalMs: number): TimerHandle;
  /** Cancels a timer from either method; unknown or fired handles are ignored. */
  clearTimer(handle: TimerHandle): void;
}

/** The real clock: `Date.now()` and unref'd Node.js timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, delayMs) {
    const timer = setTimeout(fn, delayMs);
    timer.unref();
    return timer as unknown as TimerHandle;
  },
  setInterval(fn, intervalMs) {
    const timer = setInterval(fn, intervalMs);
    timer.unref();
    return timer as unknown as TimerHandle;
  },
  clearTimer(handle) {
    clearTimeout(handle as unknown as NodeJS.Timeout);
  },
};

interface ManualTimer {
  id: number;
  dueMs: number;
  intervalMs: number | undefined;
  fn: () => void;
}

/** A clock that only moves when told to. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void;
  /** Number of pending timers (for assertions). */
  pendingTimers(): number;
}

/** Creates a {@link ManualClock} starting at `startMs` (default 2024-01-01T00:00:00Z). */
export function createManualClock(startMs = Date.UTC(2024, 0, 1)): ManualClock {
  let nowMs = startMs;
  let nextId = 1;
  const timers = new Map<number, ManualTimer>();

  function add(fn: () => void, delayMs: number, intervalMs: number | undefined): TimerHandle {
    const id = nextId++;
    timers.set(id, { id, dueMs: nowMs + Math.max(0, delayMs), intervalMs, fn });
    return id as unknown as TimerHandle;
  }

  function nextDue(untilMs: number): ManualTimer | undefined {
    let next: ManualTimer | undefined;
    for (const timer of timers.values()) {
      if (timer.dueMs <= untilMs && (!next || timer.dueMs < next.dueMs)) next = timer;
    }
    return next;
  }

  return {
    now: () => nowMs,
    setTimeout: (fn, delayMs) => add(fn, delayMs, undefined),
    setInterval: (fn, intervalMs) => add(fn, intervalMs, Math.max(1, intervalMs)),
    clearTimer: (handle) => void timers.delete(handle as unknown as number),
    advance(ms) {
      const untilMs = nowMs + ms;
      for (let timer = nextDue(untilMs); timer; timer = nextDue(untilMs)) {
        nowMs = timer.dueMs;
        if (timer.intervalMs === undefined) timers.delete(timer.id);
        else timer.dueMs += timer.intervalMs;
        timer.fn();
      }
      nowMs = untilMs;
    },
    pendingTimers: () => timers.size,
  };
}
