/**
 * Bounds the password checks one client address can make the broker run (DESIGN section 9: what reaches the hub
 * before authentication is bounded). A check of a known device's password is a scrypt (milliseconds of a libuv
 * thread and 4 MiB); CONNECTs with wrong passwords cost a client a few bytes each, so a burst of them queued minutes
 * of scrypt ahead of every other device's login and file read.
 *
 * Each check is paid for from the address's failure budget before it starts and refunded when it succeeds: a fleet
 * logging in from behind one NAT only ever holds a token per login in flight, while an address sending wrong
 * passwords gets `burst` checks at once and then `perMin` a minute. Memory is bounded as in the enrollment limit: an
 * address is forgotten once its bucket is full again, and at most `maxAddresses` are remembered.
 */
import { createRecentKeys } from '../limits/recent-keys.js';
import { fullBucket, hasTokens, refillMs, type TokenRate } from '../limits/token-bucket.js';

/** Failed password checks per client address: at once, then per minute. */
export const AUTH_FAILURES_PER_MIN = 30;

const DEFAULT_MAX_ADDRESSES = 100_000;

export interface AuthAttemptLimiter {
  /** Reserves a check for `address`; false when its failure budget is spent (refuse without checking). */
  reserve(address: string, nowMs: number): boolean;
  /** The reserved check succeeded: its token goes back. */
  refund(address: string, nowMs: number): void;
  /** Addresses remembered (for tests). */
  readonly size: number;
}

export function createAuthAttemptLimiter(options: { perMin?: number; maxAddresses?: number } = {}): AuthAttemptLimiter {
  const perMin = options.perMin ?? AUTH_FAILURES_PER_MIN;
  const rate: TokenRate = { perSec: perMin / 60, burst: perMin };
  const buckets = createRecentKeys((nowMs) => fullBucket(rate, nowMs), {
    idleMs: refillMs(rate), maxKeys: options.maxAddresses ?? DEFAULT_MAX_ADDRESSES,
  });
  const bucketOf = (address: string, nowMs: number) => buckets.touch(address, nowMs);

  return {
    reserve(address, nowMs) {
      const bucket = bucketOf(address, nowMs);
      if (!hasTokens(bucket, rate, 1, nowMs)) return false;
      bucket.tokens -= 1;
      return true;
    },
    refund(address, nowMs) {
      const bucket = bucketOf(address, nowMs);
      hasTokens(bucket, rate, 0, nowMs);
      bucket.tokens = Math.min(rate.burst, bucket.tokens + 1);
    },
    get size() {
      return buckets.size;
    },
  };
}
