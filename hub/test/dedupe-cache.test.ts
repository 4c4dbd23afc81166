/**
 * The duplicate-message cache's guarantee (issue 7, defect 8): a QoS 1 redelivery ([MQTT-4.3.2]) of one of a
 * device's last `perDeviceMaxEntries` ids within the window is caught at any fill level, one device cannot evict
 * another's ids, memory stays bounded, expired ids and quiet devices are forgotten. Speed is measured by
 * `npm run bench:dedupe`, never asserted here.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '@fedfleet/proto';
import { createDedupeCache, DEFAULT_DEDUPE_PER_DEVICE_MAX_ENTRIES } from '../src/broker/dedupe-cache.js';

describe('dedupe cache', () => {
  it("catches a duplicate of any of the device's last perDeviceMaxEntries ids, at and past the cap", () => {
    const max = 8;
    const cache = createDedupeCache({ perDeviceMaxEntries: max, windowMs: 60_000 });
    for (let i = 0; i < 10 * max; i++) {
      expect(cache.seen('d1', `m${i}`, i)).toBe(false);
      // Every one of the last `max` ids (fewer at the start) is still a duplicate, whatever the fill level.
      for (let back = 0; back < Math.min(max, i + 1); back++) expect(cache.seen('d1', `m${i - back}`, i)).toBe(true);
      expect(cache.size).toBeLessThanOrEqual(2 * max);
    }
    expect(cache.seen('d1', 'm0', 10 * max)).toBe(false); // long past the last `2 × max` ids: forgotten
  });

  it("does not let a device flooding 1,000,000 distinct ids evict another device's ids; memory stays bounded", () => {
    const cache = createDedupeCache({ windowMs: 10 * 60_000 }); // the router's defaults
    const t0 = Date.UTC(2024, 0, 1);
    for (let i = 0; i < 100; i++) cache.seen(`quiet-${i}`, 'status-1', t0);
    cache.seen('d2', 'update-1', t0);
    for (let i = 0; i < 1_000_000; i++) cache.seen('flooder', `f${i}`, t0 + Math.floor(i / 2)); // over 500 s
    expect(cache.seen('d2', 'update-1', t0 + 500_000)).toBe(true);
    for (let i = 0; i < 100; i++) expect(cache.seen(`quiet-${i}`, 'status-1', t0 + 500_000)).toBe(true);
    // The flooder's own recent ids are still caught.
    expect(cache.seen('flooder', 'f999999', t0 + 500_000)).toBe(true);
    expect(cache.seen('flooder', `f${1_000_000 - DEFAULT_DEDUPE_PER_DEVICE_MAX_ENTRIES}`, t0 + 500_000)).toBe(true);
    expect(cache.size).toBeLessThanOrEqual(2 * DEFAULT_DEDUPE_PER_DEVICE_MAX_ENTRIES + 101);
    expect(cache.devices).toBe(102);
  });

  it('forgets an id exactly one window after it was first seen, across generation changes', () => {
    const cache = createDedupeCache({ perDeviceMaxEntries: 100, windowMs: 1000 });
    expect(cache.seen('d1', 'a', 0)).toBe(false);
    for (let t = 300; t <= 900; t += 300) cache.seen('d1', `x${t}`, t);
    expect(cache.seen('d1', 'a', 1000)).toBe(true); // exactly a window old: still a duplicate
    cache.seen('d1', 'x1100', 1100); // the device's ids change generation here
    expect(cache.seen('d1', 'a', 1100)).toBe(false); // older than the window: a new message...
    expect(cache.seen('d1', 'a', 2100)).toBe(true); // ... remembered again from then
    expect(cache.seen('d1', 'a', 2101)).toBe(false);
    expect(cache.seen('d2', 'b', 500)).toBe(false);
    expect(cache.seen('d2', 'b', 1499)).toBe(true);
    expect(cache.seen('d2', 'b', 1501)).toBe(false);
  });

  it("holds a slow device's ids for the window only, not up to its cap", () => {
    const cache = createDedupeCache({ perDeviceMaxEntries: 1000, windowMs: 100 });
    for (let t = 0; t < 10_000; t += 10) {
      cache.seen('heartbeat', `h${t}`, t);
      expect(cache.seen('heartbeat', `h${t - 100}`, t)).toBe(t >= 100); // a window old: still caught
    }
    expect(cache.size).toBeLessThanOrEqual(2 * (100 / 10 + 1) + 1); // two windows of ids, not 2 × 1000
  });

  it("drops a quiet device's ids once a window has passed without it", () => {
    const cache = createDedupeCache({ perDeviceMaxEntries: 100, windowMs: 1000 });
    for (let i = 0; i < 50; i++) cache.seen('gone', `g${i}`, 0);
    expect(cache.size).toBe(50);
    for (let t = 0; t <= 3000; t += 250) cache.seen('busy', `b${t}`, t);
    expect(cache.devices).toBe(1);
    expect(cache.size).toBeLessThanOrEqual(9); // busy's last two windows only
    expect(cache.seen('gone', 'g0', 3000)).toBe(false);
    // Even with no traffic in between, the next call drops everything expired.
    cache.seen('busy', 'late', 100_000);
    expect(cache.size).toBe(1);
    expect(cache.devices).toBe(1);
  });

  it('agrees with a reference model on a random workload (never a false duplicate, never a missed one)', () => {
    const windowMs = 100;
    const max = 6;
    const cache = createDedupeCache({ perDeviceMaxEntries: max, windowMs });
    const rng = mulberry32(7);
    // Per device: ids the cache accepted as new, in order, with the time.
    const accepted = new Map<string, { id: string; atMs: number }[]>();
    let nowMs = 0;
    for (let step = 0; step < 20_000; step++) {
      nowMs += rng() < 0.9 ? Math.floor(rng() * 3) : Math.floor(rng() * 150);
      const device = `d${Math.floor(rng() * 4)}`;
      const id = `m${Math.floor(rng() * 12)}`;
      const log = accepted.get(device) ?? [];
      accepted.set(device, log);
      const last = log.findLastIndex((e) => e.id === id);
      const withinWindow = last >= 0 && nowMs - log[last]!.atMs <= windowMs;
      const amongLastMax = last >= log.length - max;
      const dup = cache.seen(device, id, nowMs);
      if (withinWindow && amongLastMax) expect(dup).toBe(true);
      if (!withinWindow) expect(dup).toBe(false);
      if (!dup) log.push({ id, atMs: nowMs });
      if (log.length > 4 * max) log.splice(0, log.length - 2 * max); // older entries decide nothing any more
      expect(cache.size).toBeLessThanOrEqual(4 * 2 * max);
    }
  });

  it('refuses options that would make it remember nothing', () => {
    expect(() => createDedupeCache({ windowMs: 0 })).toThrow(RangeError);
    expect(() => createDedupeCache({ perDeviceMaxEntries: 0 })).toThrow(RangeError);
    expect(() => createDedupeCache({ perDeviceMaxEntries: 1.5 })).toThrow(RangeError);
  });
});
