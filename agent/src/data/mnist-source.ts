import type { DataSource, Dataset } from './dataset.js';
import { memoryDataSource, subsetDataset } from './dataset.js';
import { AgentError } from '../errors.js';
import { MNIST_CLASSES, mnistSplit } from './mnist-digits.js';
import { partitionTrainTest, type PartitionScheme } from './partition.js';

export interface MnistPartitionOptions {
  /** Number of devices the digits are split across (≥ 1). */
  devices: number;
  /** This device's index in [0, devices). */
  index: number;
  /** Partition scheme. Default `iid`. */
  partition?: PartitionScheme;
  /** Seed of the partition (not of the fixed train/test split). Default 0. */
  seed?: number;
}

const partitionCache = new Map<string, { train: Uint32Array[]; test: Uint32Array[] }>();

/**
 * The global MNIST sets: 8,000 training and 2,000 test digits, shape `[28, 28, 1]`, pixels in [0, 1]. Shared
 * per process; do not modify.
 */
export function mnistGlobal(): { train: Dataset; test: Dataset } {
  return mnistSplit();
}

/**
 * Device `index` of `devices`' share of MNIST, train and held-out test, by the given partition scheme. The
 * partition of the whole fleet is computed once per (devices, partition, seed) and cached, so 100 simulated
 * devices in one process cost one partition; each device copies only its own examples, on first use.
 */
export function mnistDataSource(options: MnistPartitionOptions): DataSource {
  const { devices, index } = options;
  const partition = options.partition ?? 'iid';
  const seed = options.seed ?? 0;
  if (!Number.isInteger(index) || index < 0 || index >= devices) {
    throw new AgentError('AGENT_ERR_BAD_OPTIONS', `device index ${index} is not in [0, ${devices})`);
  }
  const global = mnistSplit();
  const key = `${devices}|${partition}|${seed}`;
  let parts = partitionCache.get(key);
  if (!parts) {
    parts = partitionTrainTest(global.train.y, global.test.y, MNIST_CLASSES, devices, partition, seed);
    partitionCache.set(key, parts);
  }
  const trainIds = parts.train[index]!;
  const testIds = parts.test[index]!;
  let train: Dataset | undefined;
  let test: Dataset | undefined;
  const name = `mnist ${partition} seed ${seed} device ${index}/${devices}`;
  const info = memoryDataSource(name, global.train, global.test).describe();
  return {
    describe: () => ({ ...info, inputShape: [...info.inputShape], trainCount: trainIds.length, testCount: testIds.length }),
    train: () => (train ??= subsetDataset(global.train, trainIds)),
    test: () => (test ??= subsetDataset(global.test, testIds)),
  };
}
