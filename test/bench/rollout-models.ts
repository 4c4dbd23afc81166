/**
 * The three versions `npm run bench:rollout` rolls out: the built-in 2NN trained centrally on bench:fl's 8,000
 * training digits with the agent's own training code and bench:quant's hyper-parameters (QUANT_TRAINING):
 * - v1: 1 epoch (the version every device serves before the measured run);
 * - v2: 5 epochs, better on every digit but 3;
 * - v3: 5 epochs on the split with all but every FAULT_KEEP_EVERY-th 7, 8 and 9 removed — worse on those digits, by
 *   more than the fault run's gate on a device that holds only them, less on a device with IID data.
 * Seeded: the same backend trains the same weights on every run.
 */
import { floatModelFromTopology, type ModelWeights } from '@fedfleet/proto';
import { initBackend, mnistGlobal, subsetDataset, type Dataset } from '@fedfleet/agent/ml';
import type { BenchOutput } from './bench-output.js';
import { runFloat } from './quant-eval.js';
import { QUANT_TRAINING, trainFromInitial } from './quant-models.js';

export const ROLLOUT_MODEL = 'mnist-2nn';

/** The digits v3 has barely seen, and the data spec of the devices that hold only them (agent/docs/data-format.md). */
export const FAULT_DIGITS = [7, 8, 9] as const;
export const FAULT_DATA_SPEC = `mnist:labels:${FAULT_DIGITS.join(',')}`;
/** v3 keeps every 10th training example of the fault digits (about 240 of 2,400). */
export const FAULT_KEEP_EVERY = 10;

export interface RolloutVersion {
  label: 'v1' | 'v2' | 'v3';
  description: string;
  topologyJson: string;
  weights: ModelWeights;
  trainExamples: number;
  /** Float accuracy on the 2,000 test digits (the int8 figures come from the hub's .tflite, rollout-accuracy.ts). */
  floatAccuracy: number;
}

/** The training split without most of the fault digits: every FAULT_KEEP_EVERY-th of each is kept. */
export function withoutMostFaultDigits(train: Dataset): Dataset {
  const seen = new Map<number, number>();
  const keep: number[] = [];
  for (let i = 0; i < train.count; i++) {
    const label = train.y[i]!;
    if (!(FAULT_DIGITS as readonly number[]).includes(label)) {
      keep.push(i);
      continue;
    }
    const n = seen.get(label) ?? 0;
    seen.set(label, n + 1);
    if (n % FAULT_KEEP_EVERY === 0) keep.push(i);
  }
  return subsetDataset(train, keep);
}

async function trainVersion(label: RolloutVersion['label'], description: string, epochs: number, train: Dataset, out: BenchOutput): Promise<RolloutVersion> {
  const { topologyJson, result } = await trainFromInitial(ROLLOUT_MODEL, out, { label, epochs, train, evaluate: false });
  const floatAccuracy = runFloat(floatModelFromTopology(topologyJson, result.weights), mnistGlobal().test).accuracy;
  return { label, description, topologyJson, weights: result.weights, trainExamples: train.count, floatAccuracy };
}

export async function trainRolloutVersions(out: BenchOutput): Promise<[RolloutVersion, RolloutVersion, RolloutVersion]> {
  await initBackend();
  const { train } = mnistGlobal();
  const reduced = withoutMostFaultDigits(train);
  const v1 = await trainVersion('v1', '1 epoch', 1, train, out);
  const v2 = await trainVersion('v2', `${QUANT_TRAINING.epochs} epochs`, QUANT_TRAINING.epochs, train, out);
  const v3 = await trainVersion('v3', `${QUANT_TRAINING.epochs} epochs, only every ${FAULT_KEEP_EVERY}th ${FAULT_DIGITS.join('/')} kept`,
    QUANT_TRAINING.epochs, reduced, out);
  return [v1, v2, v3];
}

/** `model.json` of a version for POST /v1/models/import, and its weights file (float32, manifest order). */
export function tfjsModelFiles(version: Pick<RolloutVersion, 'topologyJson' | 'weights'>): { modelJson: unknown; weightsBase64: string } {
  const bytes = Buffer.concat(version.weights.map((w) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength)));
  return {
    modelJson: {
      format: 'layers-model',
      modelTopology: JSON.parse(version.topologyJson) as unknown,
      weightsManifest: [{ paths: ['weights.bin'], weights: version.weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
    },
    weightsBase64: bytes.toString('base64'),
  };
}
