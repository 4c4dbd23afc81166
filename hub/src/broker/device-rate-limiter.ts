/**
 * Per-device limits on what a device may publish (DESIGN section 9): a token bucket per device and topic kind for
 * messages, and one per device for payload bytes. Everything a device publishes that the hub stores — telemetry rows,
 * status, replies, rejected updates — passes one of these buckets first, so one device cannot flood the database
 * however fast it sends.
 *
 * Devices are only remembered while their buckets are not full: a device silent for the longest refill time is
 * forgotten (its buckets would be full again anyway), so memory is bounded by the devices with recent traffic.
 */
import type { DeviceTopicKind } from '@fedfleet/proto';
import { fullBucket, hasTokens, refillMs, type TokenBucket, type TokenRate } from '../limits/token-bucket.js';

export type { TokenRate } from '../limits/token-bucket.js';

/** Topic kinds a device publishes, each with its own message limit. */
export type RateLimitedKind = 'status' | 'telemetry' | 'reply' | 'update' | 'fetch';

const KINDS: readonly RateLimitedKind[] = ['status', 'telemetry', 'reply', 'update', 'fetch'];

/**
 * Defaults well above what a real device sends (agent/src, firmware-sim): telemetry once per `heartbeatSec` (≥ 1 s);
 * status on each (re)connect and on busy / model changes; a progress reply per training epoch plus results; one
 * update per round; fetch one request per chunk while downloading, 4 in flight, 64 KiB each (a 16 MiB model is 256
 * requests in a burst).
 */
export const DEFAULT_DEVICE_RATE_LIMITS: Readonly<Record<RateLimitedKind, TokenRate>> = Object.freeze({
  status: { perSec: 2, burst: 30 },
  telemetry: { perSec: 2, burst: 20 },
  reply: { perSec: 50, burst: 200 },
  update: { perSec: 2, burst: 20 },
  fetch: { perSec: 200, burst: 400 },
});

export interface DeviceRateLimiterOptions {
  /** Per-kind overrides of {@link DEFAULT_DEVICE_RATE_LIMITS} (config `deviceRateLimits`). */
  kinds?: Partial<Record<RateLimitedKind, TokenRate>>;
  /** Payload bytes per second one device may send (config `deviceBytesPerSec`). */
  bytesPerSec: number;
  /** Byte bucket capacity; must exceed the largest payload, or such a payload never passes. */
  burstBytes: number;
}

/** `allowed`, or which limit dropped the message. */
export type RateDecision = 'allowed' | 'messages' | 'bytes';

export interface DeviceRateLimiter {
  /** Takes one message of `kind` carrying `bytes` from the device's buckets, or neither when one is empty. */
  admit(deviceId: string, kind: DeviceTopicKind, bytes: number, nowMs: number): RateDecision;
  /** Devices currently remembered. */
  readonly trackedDevices: number;
}

interface DeviceBuckets {
  lastUsedMs: number;
  bytes: TokenBucket;
  kinds: Partial<Record<RateLimitedKind, TokenBucket>>;
}

const isRateLimited = (kind: DeviceTopicKind): kind is RateLimitedKind => (KINDS as readonly string[]).includes(kind);

export function createDeviceRateLimiter(options: DeviceRateLimiterOptions): DeviceRateLimiter {
  const rates: Record<RateLimitedKind, TokenRate> = { ...DEFAULT_DEVICE_RATE_LIMITS, ...options.kinds };
  const byteRate: TokenRate = { perSec: options.bytesPerSec, burst: options.burstBytes };
  const forgetAfterMs = Math.max(refillMs(byteRate), ...KINDS.map((kind) => refillMs(rates[kind])));
  // Insertion order = order of last use: the idlest devices sit at the front.
  const devices = new Map<string, DeviceBuckets>();

  function forgetIdle(nowMs: number): void {
    for (const [deviceId, buckets] of devices) {
      if (nowMs - buckets.lastUsedMs < forgetAfterMs) return;
      devices.delete(deviceId);
    }
  }

  return {
    admit(deviceId, kind, bytes, nowMs) {
      // The ACL lets devices publish only the rate-limited kinds; anything else is not the limiter's business.
      if (!isRateLimited(kind)) return 'allowed';
      let buckets = devices.get(deviceId);
      if (buckets) devices.delete(deviceId);
      else buckets = { lastUsedMs: nowMs, bytes: fullBucket(byteRate, nowMs), kinds: {} };
      buckets.lastUsedMs = nowMs;
      devices.set(deviceId, buckets);
      forgetIdle(nowMs);

      const rate = rates[kind];
      const bucket = (buckets.kinds[kind] ??= fullBucket(rate, nowMs));
      if (!hasTokens(bucket, rate, 1, nowMs)) return 'messages';
      if (!hasTokens(buckets.bytes, byteRate, bytes, nowMs)) return 'bytes';
      bucket.tokens -= 1;
      buckets.bytes.tokens -= bytes;
      return 'allowed';
    },
    get trackedDevices() {
      return devices.size;
    },
  };
}
