import * as tf from '@tensorflow/tfjs';
import type { ModelWeights } from '@fedfleet/proto';
import { concatDatasets, subsetDataset, type DataSource, type Dataset } from '../data/dataset.js';
import { AgentError } from '../errors.js';
import { yieldToEventLoop } from '../event-loop.js';
import { mixSeed, mulberry32, permutation } from '../data/rng.js';
import { BatchMaker } from './batches.js';
import { evaluateModel } from './evaluate.js';
import { registerWasmKernels } from './kernels/register-wasm-kernels.js';
import { crossEntropy, proximalTerm } from './loss.js';
import { modelFromTopology, readWeights } from './model-io.js';
import { validateTrainOptions } from './train-options.js';

/** Reported after every batch. */
export interface TrainProgress {
  /** Current epoch, 1-based. */
  epoch: number;
  epochs: number;
  /** Batches done in this epoch, 1-based. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** Fraction of all batches of the task done, in (0, 1]. */
  fraction: number;
  /** Cross-entropy of the batch just trained (without the FedProx term). */
  loss: number;
}

export interface TrainOptions {
  /** Layers topology JSON (the `modelTopology` of a `model.json`). */
  topologyJson: string;
  /** Starting (global) weights in `model.getWeights()` order; also the FedProx anchor. */
  weights: ModelWeights;
  /** Local data: a data source, or train and held-out test sets. Metrics before/after use the test set. */
  data: DataSource | { train: Dataset; test: Dataset };
  /** Passes over the local training set (E in the FedAvg paper), ≥ 1. */
  epochs: number;
  /** Examples per SGD step (B); `Infinity` = the whole local set in one batch. */
  batchSize: number;
  /** SGD step size (η), > 0. */
  learningRate: number;
  /** FedProx μ ≥ 0: adds μ/2·‖w − w_global‖² to the loss when > 0. Default 0 (plain FedAvg). */
  proximalMu?: number;
  /** Seed of the per-epoch shuffle and of the `maxExamples` subset. Default 0. */
  seed?: number;
  /** Train on at most this many examples (a seeded subset). Default: all. */
  maxExamples?: number;
  /** Examples per evaluation batch. Default 256. */
  evalBatchSize?: number;
  /** Skip the before/after evaluation on the test set (metrics are then NaN). Default true = evaluate. */
  evaluate?: boolean;
  /** Checked between batches; once aborted, training stops with `AGENT_ERR_CANCELLED`. */
  signal?: AbortSignal;
  onProgress?: (progress: TrainProgress) => void;
  /** Clock for `trainMs`, in milliseconds. Default `performance.now`. */
  now?: () => number;
}

export interface TrainMetrics {
  /** Mean cross-entropy on the local test set with the starting weights. */
  lossBefore: number;
  /** Accuracy on the local test set with the starting weights, in [0, 1]. */
  accuracyBefore: number;
  lossAfter: number;
  accuracyAfter: number;
  /** Mean cross-entropy over the batches of the last epoch (example-weighted, without the FedProx term). */
  trainLoss: number;
  /** Wall time of the SGD loop, evaluation excluded, in milliseconds. */
  trainMs: number;
  /** Test examples behind the before/after metrics (0 → those metrics are NaN). */
  evalExamples: number;
}

export interface TrainResult {
  /** Trained weights, `model.getWeights()` order. */
  weights: ModelWeights;
  /** Trained − starting weights, what a device uploads. */
  delta: ModelWeights;
  /** Training examples used (n_k, the FedAvg aggregation weight); not multiplied by epochs. */
  exampleCount: number;
  metrics: TrainMetrics;
}

function isDataSource(data: TrainOptions['data']): data is DataSource {
  return typeof (data as DataSource).describe === 'function';
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AgentError('AGENT_ERR_CANCELLED', 'training cancelled', { cause: signal.reason });
}

function subtract(a: ModelWeights, b: ModelWeights): ModelWeights {
  return a.map((w, i) => {
    const base = b[i]!.data;
    const out = new Float32Array(w.data.length);
    for (let j = 0; j < out.length; j++) out[j] = w.data[j]! - base[j]!;
    return { name: w.name, shape: [...w.shape], data: out };
  });
}

/**
 * Local training for one federated round (FedAvg ClientUpdate, McMahan et al. 2017, Algorithm 1; FedProx when
 * `proximalMu` > 0): E epochs of plain minibatch SGD over a seeded shuffle, on the active backend. Same inputs
 * and seed on the same backend ⇒ bit-identical weights. Also serves centralized training: pass the union of the
 * partitions as `data` (see {@link trainCentral}).
 */
export async function trainLocal(options: TrainOptions): Promise<TrainResult> {
  const opts = validateTrainOptions(options);
  const { signal, onProgress } = options;
  const now = options.now ?? (() => performance.now());
  registerWasmKernels();
  throwIfAborted(signal);

  const fullTrain = isDataSource(options.data) ? options.data.train() : options.data.train;
  const test = isDataSource(options.data) ? options.data.test() : options.data.test;
  if (fullTrain.count === 0) throw new AgentError('AGENT_ERR_NO_DATA', 'the local training set is empty');
  const train =
    fullTrain.count > opts.maxExamples
      ? subsetDataset(fullTrain, permutation(fullTrain.count, mulberry32(mixSeed(opts.seed, 0x7fffffff))).subarray(0, opts.maxExamples))
      : fullTrain;
  const batchSize = Math.min(opts.batchSize, train.count);
  const batchesPerEpoch = Math.ceil(train.count / batchSize);

  const model = await modelFromTopology(options.topologyJson, options.weights);
  const optimizer = tf.train.sgd(opts.learningRate);
  const anchors: tf.Tensor[] = [];
  try {
    const batches = new BatchMaker(train, model, batchSize);
    const before = opts.evaluate ? evaluateModel(model, test, opts.evalBatchSize) : undefined;
    const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
    if (opts.proximalMu > 0) {
      for (const w of model.trainableWeights) {
        const base = options.weights[model.weights.indexOf(w)]!;
        anchors.push(tf.tensor(base.data, base.shape, 'float32'));
      }
    }

    const start = now();
    let trainLoss = Number.NaN;
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const order = permutation(train.count, mulberry32(mixSeed(opts.seed, epoch + 1)));
      let epochLossSum = 0;
      for (let b = 0; b < batchesPerEpoch; b++) {
        await yieldToEventLoop();
        throwIfAborted(signal);
        const from = b * batchSize;
        const to = Math.min(from + batchSize, train.count);
        const loss = tf.tidy(() => {
          const xs = batches.features(order, from, to);
          const ys = batches.oneHotLabels(order, from, to);
          const kept: { dataLoss?: tf.Scalar } = {};
          const cost = optimizer.minimize(
            () => {
              const dataLoss = crossEntropy(model.apply(xs, { training: true }) as tf.Tensor, ys);
              if (opts.proximalMu <= 0) return dataLoss;
              kept.dataLoss = tf.keep(dataLoss);
              return tf.add(dataLoss, proximalTerm(trainable, anchors, opts.proximalMu)) as tf.Scalar;
            },
            true,
            trainable,
          )!;
          const value = (kept.dataLoss ?? cost).dataSync()[0]!;
          kept.dataLoss?.dispose();
          return value;
        });
        if (!Number.isFinite(loss)) {
          throw new AgentError('AGENT_ERR_TRAIN_FAILED', `loss diverged (${loss}) in epoch ${epoch + 1}, batch ${b + 1}; lower the learning rate`);
        }
        epochLossSum += loss * (to - from);
        onProgress?.({
          epoch: epoch + 1,
          epochs: opts.epochs,
          batch: b + 1,
          batches: batchesPerEpoch,
          fraction: (epoch * batchesPerEpoch + b + 1) / (opts.epochs * batchesPerEpoch),
          loss,
        });
      }
      trainLoss = epochLossSum / train.count;
    }
    const trainMs = now() - start;

    const weights = readWeights(model);
    const after = opts.evaluate ? evaluateModel(model, test, opts.evalBatchSize) : undefined;
    return {
      weights,
      delta: subtract(weights, options.weights),
      exampleCount: train.count,
      metrics: {
        lossBefore: before?.loss ?? Number.NaN,
        accuracyBefore: before?.accuracy ?? Number.NaN,
        lossAfter: after?.loss ?? Number.NaN,
        accuracyAfter: after?.accuracy ?? Number.NaN,
        trainLoss,
        trainMs,
        evalExamples: after?.count ?? 0,
      },
    };
  } finally {
    tf.dispose(anchors);
    optimizer.dispose();
    model.dispose();
  }
}

export interface TrainCentralOptions extends Omit<TrainOptions, 'data'> {
  /** The partitions whose union is trained on (e.g. every device's data source). */
  parts: readonly (DataSource | { train: Dataset; test: Dataset })[];
  /** Test set for the metrics. Default: the union of the parts' test sets. */
  test?: Dataset;
}

/**
 * Centralized baseline: trains one model on the union of `parts` (concatenated in order; the per-epoch shuffle
 * mixes them). For the same number of sample passes as a federated run, set `epochs` accordingly.
 */
export function trainCentral(options: TrainCentralOptions): Promise<TrainResult> {
  const { parts, test, ...rest } = options;
  const splits = parts.map((p) => (isDataSource(p) ? { train: p.train(), test: p.test() } : p));
  const union = concatDatasets(splits.map((s) => s.train));
  const testSet = test ?? concatDatasets(splits.map((s) => s.test));
  return trainLocal({ ...rest, data: { train: union, test: testSet } });
}
