import { AgentError } from '../errors.js';

/** node's timers take at most 2^31 − 1 ms (~24.8 days); a longer delay fires after 1 ms (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Deadline {
  /** Aborts with AGENT_ERR_DEADLINE (`detail` in its message) once `deadlineAtMs` has passed; never without one. */
  signal: AbortSignal;
  /** Stops the timer (the work ended first). */
  clear(): void;
}

/**
 * A task's deadline as an AbortSignal, so that work the hub gave up on stops (a round closed at its deadline does
 * not want the update). `deadlineAtMs` comes off the wire: 0 = none, and any far-future value (up to the uint64
 * maximum) waits in steps a timer can hold instead of firing at once.
 * @param now the clock `deadlineAtMs` is on: ms since the epoch.
 */
export function deadlineSignal(deadlineAtMs: number, now: () => number, detail: string): Deadline {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const remainingMs = deadlineAtMs - now();
    if (remainingMs <= 0) return controller.abort(new AgentError('AGENT_ERR_DEADLINE', detail));
    timer = setTimeout(arm, Math.min(remainingMs, MAX_TIMER_MS));
    timer.unref?.();
  };
  if (Number.isFinite(deadlineAtMs) && deadlineAtMs > 0) arm();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
