import { describe, expect, it } from 'vitest';
import { classCounts } from '../../src/data/index.js';
import { dataSourceFromSpec } from '../../src/data-spec.js';

describe('data specs', () => {
  it('mnist:labels:<digits> holds every train and test digit with those labels and no other, whatever the device', async () => {
    const source = await dataSourceFromSpec('mnist:labels:9,7,8', { index: 3, devices: 200, seed: 1 });
    const train = classCounts(source.train());
    const test = classCounts(source.test());
    // The fixed split's test counts of 7, 8 and 9 (agent/test/data/mnist.test.ts pins them).
    expect(Array.from(test)).toEqual([0, 0, 0, 0, 0, 0, 0, 228, 212, 201]);
    expect(Array.from(train.subarray(0, 7))).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(train[7]! * train[8]! * train[9]!).toBeGreaterThan(0);
    expect(source.describe()).toMatchObject({ numClasses: 10, inputShape: [28, 28, 1], testCount: 641 });
    // Shared, not copied per device: a fleet's faulty devices cost one copy.
    expect((await dataSourceFromSpec('mnist:labels:7,8,9', { index: 4, devices: 200 })).test()).toBe(source.test());
  });

  it.each(['mnist:labels:', 'mnist:labels:10', 'mnist:labels:7,,8', 'mnist:labels:a'])('refuses %s with AGENT_ERR_CONFIG and the form it expects', async (spec) => {
    await expect(dataSourceFromSpec(spec, { index: 0, devices: 1 })).rejects.toMatchObject({
      code: 'AGENT_ERR_CONFIG', message: expect.stringContaining('is not mnist:labels:<digit>,<digit>,… with digits 0–9'),
    });
  });
});
