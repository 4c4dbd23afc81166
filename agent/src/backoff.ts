/** Options of {@link Backoff}; all delays in milliseconds. */
export interface BackoffOptions {
  /** First delay. Default 500 ms. */
  initialMs?: number;
  /** Upper bound of any delay. Default 30,000 ms. */
  maxMs?: number;
  /** Growth factor per attempt. Default 2. */
  factor?: number;
  /** Random source in [0, 1) (injected in tests). Default Math.random. */
  random?: () => number;
}

/**
 * Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): each delay is
 * uniform in [0, min(max, initial·factor^attempt)], so a fleet that lost its broker does not reconnect in lockstep.
 */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.random = options.random ?? Math.random;
  }

  /** Delay before the next attempt; grows until {@link reset}. */
  nextDelayMs(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt += 1;
    // Keep a floor of a tenth of the ceiling so a zero delay never turns into a busy loop.
    return Math.round(ceiling * (0.1 + 0.9 * this.random()));
  }

  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
