import { describe, expect, it } from 'vitest';
import { mulberry32, parsePartition, partitionShards, partitionTrainTest, type PartitionScheme } from '../../src/data/index.js';

/** 1,000 train / 250 test labels, 100 / 25 per class. */
const trainLabels = Uint8Array.from({ length: 1000 }, (_, i) => i % 10);
const testLabels = Uint8Array.from({ length: 250 }, (_, i) => i % 10);

function expectDisjointCover(parts: Uint32Array[], count: number): void {
  const all = parts.flatMap((p) => Array.from(p)).sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: count }, (_, i) => i));
}

function labelSet(labels: Uint8Array, ids: Uint32Array): Set<number> {
  return new Set(Array.from(ids, (i) => labels[i]!));
}

describe('partitions', () => {
  it.each<PartitionScheme>(['iid', 'shards', 'dirichlet:0.1', 'dirichlet:1'])('%s: disjoint, complete, every device non-empty, seeded', (scheme) => {
    const parts = partitionTrainTest(trainLabels, testLabels, 10, 20, scheme, 3);
    expectDisjointCover(parts.train, 1000);
    expectDisjointCover(parts.test, 250);
    expect(parts.train.every((p) => p.length >= 1)).toBe(true);
    expect(parts.test.every((p) => p.length >= 1)).toBe(true);
    expect(partitionTrainTest(trainLabels, testLabels, 10, 20, scheme, 3)).toEqual(parts);
    expect(partitionTrainTest(trainLabels, testLabels, 10, 20, scheme, 4)).not.toEqual(parts);
  });

  it('iid: equal slices', () => {
    const parts = partitionTrainTest(trainLabels, testLabels, 10, 7, 'iid', 1);
    for (const p of parts.train) expect([142, 143]).toContain(p.length);
  });

  it('shards: the FedAvg split — 2N shards, 2 per device, few labels each; test drawn from held labels', () => {
    const parts = partitionTrainTest(trainLabels, testLabels, 10, 25, 'shards', 1);
    for (let d = 0; d < 25; d++) {
      expect(parts.train[d]!.length).toBe(40); // 2 shards of 1000 / 50
      expect(labelSet(trainLabels, parts.train[d]!).size).toBeLessThanOrEqual(4);
      for (const label of labelSet(testLabels, parts.test[d]!)) expect(labelSet(trainLabels, parts.train[d]!).has(label)).toBe(true);
    }
  });

  it('shards with 100 devices cut 8,000 examples into 200 shards of 40', () => {
    const labels = Uint8Array.from({ length: 8000 }, (_, i) => (i * 7) % 10);
    const parts = partitionShards(labels, 100, mulberry32(1));
    expect(parts.every((p) => p.length === 80)).toBe(true);
    expectDisjointCover(parts, 8000);
  });

  it('dirichlet: smaller α is more skewed; test follows each device’s train labels', () => {
    const skew = (scheme: PartitionScheme): number => {
      const { train } = partitionTrainTest(trainLabels, testLabels, 10, 10, scheme, 9);
      return train.reduce((sum, ids) => {
        const counts = new Array<number>(10).fill(0);
        ids.forEach((i) => counts[trainLabels[i]!]!++);
        return sum + Math.max(...counts) / ids.length;
      }, 0) / train.length;
    };
    expect(skew('dirichlet:0.05')).toBeGreaterThan(skew('dirichlet:100'));
    const { train, test } = partitionTrainTest(trainLabels, testLabels, 10, 10, 'dirichlet:0.1', 9);
    test.forEach((ids, d) => {
      for (const label of labelSet(testLabels, ids)) expect(labelSet(trainLabels, train[d]!).has(label)).toBe(true);
    });
  });

  it('rejects bad schemes and impossible splits with AGENT_ERR_BAD_OPTIONS', () => {
    for (const bad of ['dirichlet:0', 'dirichlet:x', 'pathological', 'dirichlet:-1']) {
      expect(() => parsePartition(bad)).toThrow(expect.objectContaining({ code: 'AGENT_ERR_BAD_OPTIONS' }));
    }
    expect(() => partitionTrainTest(trainLabels, testLabels, 10, 300, 'iid', 0)).toThrow(expect.objectContaining({ code: 'AGENT_ERR_BAD_OPTIONS' }));
    expect(() => partitionTrainTest(trainLabels, testLabels, 10, 0, 'iid', 0)).toThrow(expect.objectContaining({ code: 'AGENT_ERR_BAD_OPTIONS' }));
  });
});
