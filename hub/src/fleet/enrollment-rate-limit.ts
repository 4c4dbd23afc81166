/**
 * Per-client limits on `POST /v1/enroll` (DESIGN §9: everything that reaches the hub before authentication is
 * bounded). Two token buckets per client address: every request spends one of `requestsPerMin`, and every refused
 * attempt (unknown, revoked, expired or exhausted token; bad body) one of `failuresPerMin` — so guessing tokens stops
 * after a handful of tries while a fleet enrolling from behind one NAT is only slowed. Both refill continuously and
 * hold a minute's worth (burst = the per-minute number).
 *
 * Memory is bounded: a client is remembered only while one of its buckets is not full (an idle client's buckets are
 * full again after a minute, indistinguishable from a new client's), and never more than `maxClients` at once — the
 * least recently seen are forgotten first.
 */
import { createRecentKeys } from '../limits/recent-keys.js';
import { fullBucket, hasTokens, refillMs, type TokenBucket, type TokenRate } from '../limits/token-bucket.js';

export type EnrollLimit = 'requests' | 'failures';

export interface EnrollmentRateLimitOptions {
  /** Requests per minute per client address (config `enrollRatePerMin`). */
  requestsPerMin: number;
  /** Refused attempts per minute per client address (config `enrollFailuresPerMin`). */
  failuresPerMin: number;
  /** Most client addresses remembered at once. Default 100,000 (a few MiB). */
  maxClients?: number;
}

export type EnrollVerdict = { ok: true } | { ok: false; limit: EnrollLimit; retryAfterSec: number };

export interface EnrollmentRateLimit {
  /** Admits one request from `address` (spending a request token), or says which limit refuses it and for how long. */
  admit(address: string, nowMs: number): EnrollVerdict;
  /** Counts one refused attempt from `address`. */
  refused(address: string, nowMs: number): void;
  /** Client addresses remembered (for tests). */
  readonly size: number;
}

interface ClientBuckets {
  requests: TokenBucket;
  failures: TokenBucket;
}

const DEFAULT_MAX_CLIENTS = 100_000;

export function createEnrollmentRateLimit(options: EnrollmentRateLimitOptions): EnrollmentRateLimit {
  const rates: Record<EnrollLimit, TokenRate> = {
    requests: { perSec: options.requestsPerMin / 60, burst: options.requestsPerMin },
    failures: { perSec: options.failuresPerMin / 60, burst: options.failuresPerMin },
  };
  const clients = createRecentKeys<ClientBuckets>(
    (nowMs) => ({ requests: fullBucket(rates.requests, nowMs), failures: fullBucket(rates.failures, nowMs) }),
    { idleMs: Math.max(refillMs(rates.requests), refillMs(rates.failures)), maxKeys: options.maxClients ?? DEFAULT_MAX_CLIENTS },
  );
  const clientOf = (address: string, nowMs: number) => clients.touch(address, nowMs);

  /** Whole seconds until `bucket` holds one token again (at least 1: Retry-After counts in seconds). */
  const retryAfterSec = (bucket: TokenBucket, rate: TokenRate) => Math.max(1, Math.ceil((1 - bucket.tokens) / rate.perSec));

  return {
    admit(address, nowMs) {
      const client = clientOf(address, nowMs);
      // A client that has used up its refused attempts is not even heard until they refill.
      if (!hasTokens(client.failures, rates.failures, 1, nowMs)) {
        return { ok: false, limit: 'failures', retryAfterSec: retryAfterSec(client.failures, rates.failures) };
      }
      if (!hasTokens(client.requests, rates.requests, 1, nowMs)) {
        return { ok: false, limit: 'requests', retryAfterSec: retryAfterSec(client.requests, rates.requests) };
      }
      client.requests.tokens -= 1;
      return { ok: true };
    },
    refused(address, nowMs) {
      const client = clientOf(address, nowMs);
      hasTokens(client.failures, rates.failures, 1, nowMs);
      client.failures.tokens = Math.max(0, client.failures.tokens - 1);
    },
    get size() {
      return clients.size;
    },
  };
}
