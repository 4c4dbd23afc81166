import { describe, expect, it } from 'vitest';
import { classCounts, mnistDataSource, mnistGlobal, MNIST_TEST_COUNT, MNIST_TRAIN_COUNT } from '../../src/data/index.js';

describe('MNIST', () => {
  it('has a fixed 8,000 / 2,000 split of 28×28 digits in [0, 1], loaded once per process', () => {
    const { train, test } = mnistGlobal();
    expect([train.count, test.count]).toEqual([MNIST_TRAIN_COUNT, MNIST_TEST_COUNT]);
    expect(train.inputShape).toEqual([28, 28, 1]);
    expect(train.x.length).toBe(8000 * 784);
    let min = Infinity;
    let max = -Infinity;
    for (const v of train.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 1]);
    // Pins the split (MNIST_SPLIT_SEED): any change to it shows up here.
    expect(Array.from(classCounts(test))).toEqual([204, 222, 196, 213, 172, 155, 197, 228, 212, 201]);
    expect(mnistGlobal().train).toBe(train);
  });

  it('gives device i of N its partition, train and test, cached across devices', () => {
    const sources = Array.from({ length: 100 }, (_, index) => mnistDataSource({ devices: 100, index, partition: 'shards', seed: 2 }));
    expect(sources[0]!.describe()).toMatchObject({ inputShape: [28, 28, 1], numClasses: 10, trainCount: 80 });
    const trainTotal = sources.reduce((n, s) => n + s.train().count, 0);
    const testTotal = sources.reduce((n, s) => n + s.test().count, 0);
    expect([trainTotal, testTotal]).toEqual([8000, 2000]);
    expect(sources[5]!.train()).toBe(sources[5]!.train());
    const again = mnistDataSource({ devices: 100, index: 5, partition: 'shards', seed: 2 });
    expect(again.train().y).toEqual(sources[5]!.train().y);
    expect(mnistDataSource({ devices: 100, index: 5, partition: 'shards', seed: 3 }).train().y).not.toEqual(again.train().y);
  });

  it('rejects an index outside the fleet', () => {
    expect(() => mnistDataSource({ devices: 4, index: 4 })).toThrow(expect.objectContaining({ code: 'AGENT_ERR_BAD_OPTIONS' }));
  });
});
