import { shapeSize } from '@fedfleet/proto';
import { AgentError } from '../errors.js';

/**
 * Labelled examples as plain typed arrays. Tensors are made from it one batch at a time, so a data set costs its
 * raw size and nothing more.
 */
export interface Dataset {
  /** Features, `count × prod(inputShape)` values, row-major; images are scaled to [0, 1]. */
  x: Float32Array;
  /** Class labels in [0, numClasses), one per example. */
  y: Uint8Array;
  /** Number of examples. */
  count: number;
  /** Shape of one example, e.g. `[28, 28, 1]` or `[784]`. */
  inputShape: number[];
  /** Number of classes. */
  numClasses: number;
}

/** What a data source holds, without loading its examples. */
export interface DataSourceInfo {
  /** Human-readable name, e.g. `mnist iid 3/100`. */
  name: string;
  inputShape: number[];
  numClasses: number;
  trainCount: number;
  testCount: number;
  /** Optional display names of the classes, index = label. */
  labelNames?: string[];
}

/** A device's local data: a training set and a held-out test set for federated evaluation. */
export interface DataSource {
  describe(): DataSourceInfo;
  train(): Dataset;
  test(): Dataset;
}

/** Checks that a data set is internally consistent; throws `AGENT_ERR_DATA_FORMAT` with the first violation. */
export function validateDataset(data: Dataset, what = 'data set'): void {
  const size = shapeSize(data.inputShape);
  const fail = (detail: string): never => {
    throw new AgentError('AGENT_ERR_DATA_FORMAT', `${what}: ${detail}`);
  };
  if (data.inputShape.length === 0 || data.inputShape.some((d) => !Number.isInteger(d) || d <= 0)) {
    fail(`inputShape ${JSON.stringify(data.inputShape)} must be positive integers`);
  }
  if (!Number.isInteger(data.numClasses) || data.numClasses < 2 || data.numClasses > 256) {
    fail(`numClasses ${data.numClasses} must be an integer in [2, 256]`);
  }
  if (!Number.isInteger(data.count) || data.count < 0) fail(`count ${data.count} is not a non-negative integer`);
  if (data.x.length !== data.count * size) {
    fail(`x has ${data.x.length} values, expected count × prod(inputShape) = ${data.count} × ${size}`);
  }
  if (data.y.length !== data.count) fail(`y has ${data.y.length} labels, expected ${data.count}`);
  for (let i = 0; i < data.count; i++) {
    if (data.y[i]! >= data.numClasses) fail(`label ${data.y[i]} of example ${i} is not below numClasses ${data.numClasses}`);
  }
  for (let i = 0; i < data.x.length; i++) {
    if (!Number.isFinite(data.x[i]!)) fail(`feature value ${i} is not finite`);
  }
}

/** The examples at `indices`, copied, in that order. */
export function subsetDataset(data: Dataset, indices: ArrayLike<number>): Dataset {
  const size = shapeSize(data.inputShape);
  const x = new Float32Array(indices.length * size);
  const y = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i]!;
    x.set(data.x.subarray(src * size, (src + 1) * size), i * size);
    y[i] = data.y[src]!;
  }
  return { x, y, count: indices.length, inputShape: [...data.inputShape], numClasses: data.numClasses };
}

/** All examples of `parts` in order (e.g. the union of device partitions for centralized training). */
export function concatDatasets(parts: readonly Dataset[]): Dataset {
  if (parts.length === 0) throw new AgentError('AGENT_ERR_NO_DATA', 'no data sets to concatenate');
  const first = parts[0]!;
  const size = shapeSize(first.inputShape);
  let count = 0;
  for (const part of parts) {
    if (shapeSize(part.inputShape) !== size || part.numClasses !== first.numClasses) {
      throw new AgentError('AGENT_ERR_DATA_FORMAT', 'cannot concatenate data sets of different shapes or class counts');
    }
    count += part.count;
  }
  const x = new Float32Array(count * size);
  const y = new Uint8Array(count);
  let at = 0;
  for (const part of parts) {
    x.set(part.x.subarray(0, part.count * size), at * size);
    y.set(part.y.subarray(0, part.count), at);
    at += part.count;
  }
  return { x, y, count, inputShape: [...first.inputShape], numClasses: first.numClasses };
}

/** Number of examples per class. */
export function classCounts(data: Dataset): Uint32Array {
  const counts = new Uint32Array(data.numClasses);
  for (let i = 0; i < data.count; i++) counts[data.y[i]!]!++;
  return counts;
}

/** A data source over two in-memory data sets. */
export function memoryDataSource(name: string, train: Dataset, test: Dataset, labelNames?: string[]): DataSource {
  const info: DataSourceInfo = {
    name,
    inputShape: [...train.inputShape],
    numClasses: train.numClasses,
    trainCount: train.count,
    testCount: test.count,
    ...(labelNames ? { labelNames: [...labelNames] } : {}),
  };
  return { describe: () => ({ ...info, inputShape: [...info.inputShape] }), train: () => train, test: () => test };
}
