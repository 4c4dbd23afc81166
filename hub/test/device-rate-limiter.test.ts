import { describe, expect, it } from 'vitest';
import { DEFAULT_DEVICE_RATE_LIMITS, createDeviceRateLimiter } from '../src/broker/device-rate-limiter.js';
import { createLogThrottle } from '../src/limits/log-throttle.js';

const MiB = 1024 * 1024;

describe('device rate limiter', () => {
  it('lets a burst through, then refills at perSec', () => {
    const limiter = createDeviceRateLimiter({ kinds: { telemetry: { perSec: 2, burst: 3 } }, bytesPerSec: MiB, burstBytes: MiB });
    const admit = (nowMs: number) => limiter.admit('d1', 'telemetry', 10, nowMs);
    expect([admit(0), admit(0), admit(0), admit(0)]).toEqual(['allowed', 'allowed', 'allowed', 'messages']);
    expect(admit(499)).toBe('messages');
    expect(admit(500)).toBe('allowed');
    expect(admit(500)).toBe('messages');
  });

  it('keeps devices and kinds apart, and the defaults for kinds not overridden', () => {
    const limiter = createDeviceRateLimiter({ kinds: { telemetry: { perSec: 1, burst: 1 } }, bytesPerSec: MiB, burstBytes: MiB });
    expect(limiter.admit('d1', 'telemetry', 1, 0)).toBe('allowed');
    expect(limiter.admit('d1', 'telemetry', 1, 0)).toBe('messages');
    expect(limiter.admit('d2', 'telemetry', 1, 0)).toBe('allowed');
    const statuses = Array.from({ length: DEFAULT_DEVICE_RATE_LIMITS.status.burst + 1 }, () => limiter.admit('d1', 'status', 1, 0));
    expect(statuses.filter((d) => d === 'allowed')).toHaveLength(DEFAULT_DEVICE_RATE_LIMITS.status.burst);
    expect(statuses.at(-1)).toBe('messages');
  });

  it('limits payload bytes per device; a message refused for bytes costs no message token', () => {
    const limiter = createDeviceRateLimiter({ kinds: { update: { perSec: 1, burst: 2 } }, bytesPerSec: 1000, burstBytes: 1000 });
    expect(limiter.admit('d1', 'update', 600, 0)).toBe('allowed');
    expect(limiter.admit('d1', 'update', 600, 0)).toBe('bytes');
    expect(limiter.admit('d1', 'update', 400, 0)).toBe('allowed'); // the second token was still there
    expect(limiter.admit('d1', 'telemetry', 1, 0)).toBe('bytes'); // bytes are per device, across kinds
    expect(limiter.admit('d1', 'telemetry', 1, 1)).toBe('allowed');
  });

  it('forgets devices once their buckets would be full again, so departed devices do not pile up', () => {
    const limiter = createDeviceRateLimiter({ bytesPerSec: 4 * MiB, burstBytes: 16 * MiB });
    for (let i = 0; i < 1000; i++) limiter.admit(`d${i}`, 'telemetry', 100, 0);
    expect(limiter.trackedDevices).toBe(1000);
    // The slowest default bucket to refill is status: burst / perSec seconds.
    const forgetMs = (DEFAULT_DEVICE_RATE_LIMITS.status.burst / DEFAULT_DEVICE_RATE_LIMITS.status.perSec) * 1000;
    limiter.admit('d0', 'telemetry', 100, forgetMs - 1);
    expect(limiter.trackedDevices).toBe(1000);
    limiter.admit('d0', 'telemetry', 100, forgetMs);
    expect(limiter.trackedDevices).toBe(1); // only d0, just used
  });
});

describe('log throttle', () => {
  it('logs the first event at once and then one line per interval with the count', () => {
    const throttle = createLogThrottle(10_000);
    expect(throttle.note('d1', 0)).toBe(1);
    for (let t = 1; t < 10_000; t += 10) expect(throttle.note('d1', t)).toBeUndefined();
    expect(throttle.note('d2', 5)).toBe(1);
    expect(throttle.note('d1', 10_000)).toBe(1001);
  });

  it('forgets keys quiet for an interval', () => {
    const throttle = createLogThrottle(10_000);
    for (let i = 0; i < 1000; i++) throttle.note(`d${i}`, 0);
    expect(throttle.size).toBe(1000);
    throttle.note('late', 10_000);
    expect(throttle.size).toBe(1);
  });
});
