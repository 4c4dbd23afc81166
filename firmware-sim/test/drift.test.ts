import { describe, expect, it } from 'vitest';
import type { Dataset } from '@fedfleet/agent/training';
import { parseDrift, parseDriftRule, selects, shiftInput } from '../src/drift.js';
import { FleetDrift } from '../src/fleet-drift.js';
import { SimTraffic } from '../src/sim-traffic.js';

const device = (index: number) => ({ index, name: `sim-${String(index).padStart(3, '0')}`, labels: { sim: 'true', site: index < 2 ? 'a' : 'b' } });

describe('fedfleet sim --drift', () => {
  it('parses <devices>:<shift>[@<after>] and selects devices by index, range, name, label or all', () => {
    expect(parseDriftRule('site=b:invert@30s')).toMatchObject({ devices: 'site=b', drift: { shifts: [{ kind: 'invert' }] }, afterMs: 30_000 });
    expect(parseDriftRule('0-4:noise:0.2@2m')).toMatchObject({ devices: '0-4', drift: { shifts: [{ kind: 'noise', sigma: 0.2 }] }, afterMs: 120_000 });
    expect(parseDriftRule('all:labels:7,8,9+brightness:0.5')).toMatchObject({
      devices: 'all', drift: { spec: 'labels:7,8,9+brightness:0.5', shifts: [{ kind: 'labels', labels: [7, 8, 9] }, { kind: 'brightness', factor: 0.5 }] }, afterMs: 0,
    });
    expect(parseDriftRule('3:invert@250ms').afterMs).toBe(250);
    for (const bad of ['invert', ':invert', '1:upside-down', '1:noise', '1:noise:-1', '1:labels:a', '1:invert@soon', '1:invert:2']) {
      expect(() => parseDriftRule(bad), bad).toThrow(RangeError);
    }
    const pick = (selector: string) => [0, 1, 2, 3].filter((i) => selects(selector, device(i)));
    expect([pick('all'), pick('2'), pick('1-2'), pick('sim-003'), pick('site=b'), pick('site=c')]).toEqual([[0, 1, 2, 3], [2], [1, 2], [3], [2, 3], []]);
  });

  it('shifts a copy of the input: invert, brightness, noise', () => {
    const input = Float32Array.from([0, 0.25, 1]);
    const out = new Float32Array(3);
    expect(Array.from(shiftInput(input, parseDrift('invert'), out, () => 0.5))).toEqual([1, 0.75, 0]);
    expect(Array.from(shiftInput(input, parseDrift('brightness:2'), out, () => 0.5))).toEqual([0, 0.5, 2]);
    expect(Array.from(input)).toEqual([0, 0.25, 1]);
    const noisy = shiftInput(input, parseDrift('noise:0.5'), out, (() => { let s = 0.1; return () => (s = (s + 0.37) % 1); })());
    expect(Array.from(noisy).some((v, i) => v !== input[i])).toBe(true);
  });

  it('applies a rule from its delay after start; a direct setting wins until cleared', () => {
    let nowMs = 0;
    const drift = new FleetDrift([parseDriftRule('site=b:invert@30s'), parseDriftRule('3:brightness:0.5@60s')], () => nowMs);
    drift.start();
    expect(drift.of(device(2))).toBeUndefined();
    nowMs = 30_000;
    expect([0, 2, 3].map((i) => drift.of(device(i))?.spec)).toEqual([undefined, 'invert', 'invert']);
    nowMs = 60_000;
    expect(drift.of(device(3))?.spec).toBe('brightness:0.5');
    drift.set([0, 3], 'noise:0.1');
    expect([0, 3].map((i) => drift.of(device(i))?.spec)).toEqual(['noise:0.1', 'noise:0.1']);
    drift.set([3], null);
    expect(drift.of(device(3))).toBeUndefined();
  });

  it('serves only the drifted classes and the shifted inputs', async () => {
    const data: Dataset = { x: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), y: Uint8Array.from([7, 1, 7]), count: 3, inputShape: [2], numClasses: 10 };
    const seen: Array<{ x: number[]; label?: number }> = [];
    let drift = parseDrift('labels:7+invert');
    const service = {
      serving: () => ({}) as never,
      shadowIdle: async () => {},
      predict: async (x: Float32Array) => (seen.push({ x: Array.from(x, (v) => Math.round(v * 10) / 10) }), { requestId: 'r' } as never),
      feedback: (_id: string, label: number) => ((seen.at(-1)!.label = label), true),
    };
    const traffic = new SimTraffic({ service, examples: () => data, perHeartbeat: 3, drift: () => drift });
    expect(await traffic.run()).toBe(3);
    expect(seen).toEqual([{ x: [0.9, 0.8], label: 7 }, { x: [0.5, 0.4], label: 7 }, { x: [0.9, 0.8], label: 7 }]);
    drift = parseDrift('labels:3');
    expect(await traffic.run()).toBe(0);
  });
});
