/**
 * What bench:rollout's devices will measure, computed beforehand from the same int8 `.tflite` files the hub bundles
 * and the same integer-only kernels (quant-eval's runInt8): per-digit accuracy on the 2,000 test digits, and the
 * self-test each kind of device runs — the first DEFAULT_SELF_TEST_EXAMPLES of its held-out split, new version
 * against the one it serves — so the output shows that the fault run's gate, not chance, separates the devices.
 */
import { DEFAULT_SELF_TEST_EXAMPLES } from '@fedfleet/agent';
import { mnistGlobal, subsetDataset, type Dataset } from '@fedfleet/agent/ml';
import { dataSourceFromSpec } from '@fedfleet/agent/training';
import { argMaxInt8, type Int8Graph } from '@fedfleet/proto';
import { runInt8 } from './quant-eval.js';

export interface DigitAccuracy {
  accuracy: number;
  /** Accuracy per digit 0–9. */
  perDigit: number[];
}

export function digitAccuracy(graph: Int8Graph, data: Dataset = mnistGlobal().test): DigitAccuracy {
  const { logits } = runInt8(graph, data);
  const classes = data.numClasses;
  const right = new Array<number>(classes).fill(0);
  const total = new Array<number>(classes).fill(0);
  for (let i = 0; i < data.count; i++) {
    const label = data.y[i]!;
    total[label]!++;
    if (argMaxInt8(logits, i * classes, classes) === label) right[label]!++;
  }
  const correct = right.reduce((a, b) => a + b, 0);
  return { accuracy: correct / data.count, perDigit: right.map((r, d) => (total[d] ? r / total[d]! : 0)) };
}

export interface SelfTestForecast {
  spec: string;
  examples: number;
  /** Self-test accuracy of the version served before and of the new one, on the same examples. */
  before: number;
  after: number;
  /** before − after, in points (what the hub's gate compares with maxAccuracyDropPts). */
  dropPts: number;
}

/** The self-test a device holding `spec` runs on `after` with `before` as its baseline. */
export async function forecastSelfTest(spec: string, before: Int8Graph, after: Int8Graph, seed: number): Promise<SelfTestForecast> {
  const test = (await dataSourceFromSpec(spec, { seed })).test();
  const examples = Math.min(test.count, DEFAULT_SELF_TEST_EXAMPLES);
  const sample = subsetDataset(test, Array.from({ length: examples }, (_, i) => i));
  const b = runInt8(before, sample).accuracy;
  const a = runInt8(after, sample).accuracy;
  return { spec, examples, before: b, after: a, dropPts: 100 * (b - a) };
}

export const digitsLine = (d: DigitAccuracy): string =>
  `${d.perDigit.map((a, digit) => `${digit}:${(100 * a).toFixed(0)}`).join(' ')} (all ${(100 * d.accuracy).toFixed(2)} %)`;
