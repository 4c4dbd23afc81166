/**
 * The asynchronous work of federated rounds (update handlers, selections, aggregations, commits), so a hub that
 * closes can do it in order: stop starting work, wait for what runs — bounded, a stuck disk must not keep the hub
 * from stopping — and only then let the store close. Work that outlives the wait sees `closed` at its next step and
 * stops before it touches the store.
 */
import type { Clock, TimerHandle } from '../clock.js';

type Phase = 'open' | 'draining' | 'closed';

export class InFlight {
  private readonly tasks = new Set<Promise<unknown>>();
  private phase: Phase = 'open';

  /** @param onError Called with the failure of a spawned task that it did not handle itself. */
  constructor(private readonly onError: (error: unknown) => void) {}

  /** True until closing starts: new work may begin. */
  get open(): boolean {
    return this.phase === 'open';
  }

  /** True once the wait is over: the store may be closed, nothing may touch it any more. */
  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** Number of tasks running. */
  get size(): number {
    return this.tasks.size;
  }

  /** Runs `task` and tracks it until it settles; returns its promise (a failure is the caller's to handle). */
  run<T>(task: () => Promise<T>): Promise<T> {
    const running = task();
    const tracked = running.then(() => undefined, () => undefined);
    this.tasks.add(tracked);
    void tracked.then(() => this.tasks.delete(tracked));
    return running;
  }

  /** Runs `task` in the background, tracked; a failure it did not handle itself goes to `onError`. */
  spawn(task: () => Promise<unknown>): void {
    this.run(task).catch((error: unknown) => this.onError(error));
  }

  /** Stops new work: `open` is false from now on. */
  stop(): void {
    if (this.phase === 'open') this.phase = 'draining';
  }

  /**
   * Stops new work and waits until every task settled (also those started meanwhile), at most `timeoutMs` on
   * `clock`; then marks the work closed. Resolves to the number of tasks still running (0 = all done).
   */
  async drain(timeoutMs: number, clock: Clock): Promise<number> {
    this.stop();
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = clock.setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      while (this.tasks.size > 0) {
        if ((await Promise.race([Promise.allSettled([...this.tasks]), timedOut])) === 'timeout') break;
      }
    } finally {
      if (timer) clock.clearTimer(timer);
      this.phase = 'closed';
    }
    return this.tasks.size;
  }
}
