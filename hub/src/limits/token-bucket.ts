/**
 * A token bucket as plain state: `burst` tokens at most, refilled at `perSec`, lazily from the caller's clock when it
 * is used — O(1) per message, no timers. A bucket left alone for {@link refillMs} is full again, indistinguishable
 * from a new one, which is what lets its owner forget idle buckets.
 */
export interface TokenRate {
  /** Tokens added per second (may be fractional). */
  perSec: number;
  /** Capacity: the most tokens a burst may spend at once. */
  burst: number;
}

export interface TokenBucket {
  tokens: number;
  updatedMs: number;
}

export function fullBucket(rate: TokenRate, nowMs: number): TokenBucket {
  return { tokens: rate.burst, updatedMs: nowMs };
}

/** Refills `bucket` up to `nowMs` and reports whether `amount` tokens are there (without taking them). */
export function hasTokens(bucket: TokenBucket, rate: TokenRate, amount: number, nowMs: number): boolean {
  // A clock that steps back adds nothing rather than removing tokens.
  const elapsedMs = Math.max(0, nowMs - bucket.updatedMs);
  bucket.tokens = Math.min(rate.burst, bucket.tokens + (elapsedMs * rate.perSec) / 1000);
  bucket.updatedMs = Math.max(bucket.updatedMs, nowMs);
  return bucket.tokens >= amount;
}

/** Milliseconds an empty bucket takes to fill up. */
export function refillMs(rate: TokenRate): number {
  return Math.ceil((rate.burst / rate.perSec) * 1000);
}
