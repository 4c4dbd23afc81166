import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/backoff.js';

describe('Backoff', () => {
  it('grows exponentially up to the cap, with jitter inside [10 %, 100 %] of the ceiling', () => {
    let r = 0;
    const values = [0, 0.999, 0.5];
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, random: () => values[r++ % values.length]! });
    const delays = Array.from({ length: 6 }, () => backoff.nextDelayMs());
    const ceilings = [100, 200, 400, 800, 1000, 1000];
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(ceilings[i]! * 0.1);
      expect(delay).toBeLessThanOrEqual(ceilings[i]!);
    });
    expect(delays[0]).toBe(10);
    expect(backoff.attempts).toBe(6);
  });

  it('restarts from the initial delay after reset', () => {
    const backoff = new Backoff({ initialMs: 100, random: () => 1 - Number.EPSILON });
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    backoff.reset();
    expect(backoff.nextDelayMs()).toBe(100);
  });

  it('spreads a fleet: 100 devices do not pick the same delay', () => {
    const delays = new Set(Array.from({ length: 100 }, () => new Backoff({ initialMs: 1000 }).nextDelayMs()));
    expect(delays.size).toBeGreaterThan(50);
  });
});
