/**
 * The models `npm run bench:quant` and `npm run verify:tflite` measure: each built-in architecture
 * (hub/src/models/architectures.ts) trained centrally on the fixed 8,000-digit train split of bench:fl, with the
 * agent's own training code on its default backend (wasm here), then read as a FloatModel from its layers
 * topology. Seeded: the same backend gives bit-identical weights in both scripts, which `weightsSha256` lets the
 * bench check before it quotes verify:tflite's results.
 */
import { createHash } from 'node:crypto';
import { floatModelFromTopology, type FloatModel, type ModelWeights } from '@fedfleet/proto';
import { initBackend, mnistGlobal, trainLocal, type Dataset, type TrainResult } from '@fedfleet/agent/ml';
import { createInitialModel } from '../../hub/src/models/architectures.js';
import type { BenchOutput } from './bench-output.js';

export const QUANT_MODEL_IDS = ['mnist-2nn', 'tiny-cnn'] as const;
export type QuantModelId = (typeof QUANT_MODEL_IDS)[number];

/**
 * Central training: bench:fl's client hyper-parameters (B = 10, η = 0.05, seed 1) for 5 epochs, which bench:fl's
 * centralized baseline shows is enough for ~94–96 % on this split, at about 20 s per model on 2 cores.
 */
export const QUANT_TRAINING = Object.freeze({ epochs: 5, batchSize: 10, learningRate: 0.05, seed: 1 });

export interface TrainedModel {
  id: QuantModelId;
  /** TensorFlow.js backend that trained it; bit-identical weights need the same one. */
  backend: string;
  /** Layers topology JSON, as the hub stores it per version. */
  topologyJson: string;
  weights: ModelWeights;
  /** The same model as plain data (floatModelFromTopology); logits out, the trailing softmax left out. */
  floatModel: FloatModel;
  /** Test accuracy as TensorFlow.js computes it after training (the float forward pass should agree). */
  tfjsAccuracy: number;
  /** sha256 over the weights' names, shapes and float32 bytes. */
  weightsSha256: string;
  trainSec: number;
}

/** The description both scripts write into a model's .tflite files, so their byte counts are the same. */
export function tfliteDescription(id: QuantModelId, format: 'int8' | 'float32'): string {
  return format === 'int8' ? `fedfleet ${id}, int8, calibrated on the fleet` : `fedfleet ${id}, float32`;
}

/** Content hash of a set of weights, to tell whether two runs measured the same model. */
export function weightsSha256(weights: ModelWeights): string {
  const hash = createHash('sha256');
  for (const w of weights) {
    hash.update(`${w.name}[${w.shape.join(',')}]`);
    hash.update(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength));
  }
  return hash.digest('hex');
}

/** The examples of a data set as views into its features, one Float32Array per example, no copies. */
export function* examplesOf(data: Dataset): Generator<Float32Array> {
  const size = data.x.length / Math.max(1, data.count);
  for (let i = 0; i < data.count; i++) yield data.x.subarray(i * size, (i + 1) * size);
}

/** What {@link trainFromInitial} may vary: the progress label, the epochs, the train split, the test-set evaluation. */
export interface CentralTrainingOptions {
  /** Shown as `training <label>`. Default: the architecture id. */
  label?: string;
  /** Default QUANT_TRAINING.epochs. */
  epochs?: number;
  /** Default bench:fl's 8,000-digit train split. */
  train?: Dataset;
  /** Evaluate on the test split before and after (TrainResult metrics). Default true. */
  evaluate?: boolean;
}

/**
 * A built-in architecture trained centrally from its seeded initial weights with QUANT_TRAINING (bench:quant,
 * verify:tflite, bench:rollout's versions). Initialise the backend first.
 */
export async function trainFromInitial(
  archId: string, out: BenchOutput, options: CentralTrainingOptions = {},
): Promise<{ topologyJson: string; result: TrainResult }> {
  const { train, test } = mnistGlobal();
  const initial = createInitialModel(archId, QUANT_TRAINING.seed);
  const label = options.label ?? archId;
  const result = await trainLocal({
    topologyJson: initial.topologyJson,
    weights: initial.weights,
    data: { train: options.train ?? train, test },
    ...QUANT_TRAINING,
    epochs: options.epochs ?? QUANT_TRAINING.epochs,
    evaluate: options.evaluate ?? true,
    onProgress: (p) => out.progress(`training ${label}`, (p.epoch - 1) * p.batches + p.batch, p.epochs * p.batches),
  });
  out.endProgress();
  return { topologyJson: initial.topologyJson, result };
}

export async function trainBuiltinModel(id: QuantModelId, out: BenchOutput): Promise<TrainedModel> {
  const start = performance.now();
  const backend = await initBackend();
  const { topologyJson, result } = await trainFromInitial(id, out);
  return {
    id,
    backend,
    topologyJson,
    weights: result.weights,
    floatModel: floatModelFromTopology(topologyJson, result.weights),
    tfjsAccuracy: result.metrics.accuracyAfter,
    weightsSha256: weightsSha256(result.weights),
    trainSec: (performance.now() - start) / 1000,
  };
}
