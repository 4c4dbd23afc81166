/**
 * What verify:tflite writes (test/bench/results/verify-tflite.json), and how bench:quant reads its two figures
 * back. The per-model `tflite` object is what tflite_check.py printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths.js';

/** Where verify:tflite writes its result by default, and where bench:quant reads it. */
export const VERIFY_RESULT_PATH = join(REPO_ROOT, 'test/bench/results/verify-tflite.json');

/** The goals for our int8 file in TensorFlow Lite's reference kernels. */
export const VERIFY_GOALS = Object.freeze({ classAgreement: 0.995, withinOneStep: 0.99 });

export interface Int8Comparison {
  classAgreement: number;
  withinOneStep: number;
  exactLogits: number;
  maxStepDiff: number;
}

/** tflite_check.py's result for one model. */
export interface PythonModelResult {
  model: string;
  int8: Int8Comparison & {
    fileBytes: number;
    kernels: string;
    accuracy: number;
    ourAccuracy: number;
    inputCodeMismatches: number;
    optimizedKernels: Int8Comparison & { kernels: string };
  };
  float: { fileBytes: number; accuracy: number; ourAccuracy: number; classAgreement: number; maxAbsLogitDiff: number };
  tfConverter: {
    fileBytes: number;
    calibrationDigits: number;
    accuracy: number;
    classAgreementWithOurs: number;
    kerasFloatAccuracy: number;
    kerasMaxAbsLogitDiffVsOurFloat: number;
  };
  timings: Record<string, number>;
}

export interface PythonResult {
  tfVersion: string;
  kerasVersion: string;
  numpyVersion: string;
  python: string;
  importSec: number;
  models: PythonModelResult[];
}

export interface VerifiedModel {
  model: string;
  weightsSha256: string;
  /** Class agreement of TFLite's reference kernels with ours on our int8 file. */
  tfliteInterpreterAgreement: number;
  /** Accuracy of TensorFlow Lite's own post-training int8 quantization of the same float weights. */
  tfConverterInt8Accuracy: number;
  [key: string]: unknown;
}

export interface VerifyTfliteResult {
  bench: 'verify-tflite';
  tfVersion: string;
  models: VerifiedModel[];
  [key: string]: unknown;
}

/** The two figures bench:quant quotes, or nulls with the reason when there is no result for these weights. */
export interface QuotedVerification {
  tfliteInterpreterAgreement: number | null;
  tfConverterInt8Accuracy: number | null;
  /** Why the figures are null; undefined when they are quoted. */
  missing?: string;
}

/**
 * The verify:tflite figures for `model`, quoted only when that run measured the same weights: figures of other
 * weights (another backend, other training settings) would describe a different model.
 */
export function quoteVerification(result: VerifyTfliteResult | undefined, model: string, weightsSha256: string): QuotedVerification {
  const none = (missing: string): QuotedVerification => ({ tfliteInterpreterAgreement: null, tfConverterInt8Accuracy: null, missing });
  if (!result) return none('no verify:tflite result; run npm run verify:tflite');
  const entry = result.models.find((m) => m.model === model);
  if (!entry) return none(`verify:tflite result has no ${model}`);
  if (entry.weightsSha256 !== weightsSha256) return none(`verify:tflite measured other ${model} weights; run npm run verify:tflite again`);
  return { tfliteInterpreterAgreement: entry.tfliteInterpreterAgreement, tfConverterInt8Accuracy: entry.tfConverterInt8Accuracy };
}

/** The committed result file, or undefined when it is missing or not a verify:tflite result. */
export function readVerifyResult(path: string): VerifyTfliteResult | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<VerifyTfliteResult>;
  return parsed.bench === 'verify-tflite' && Array.isArray(parsed.models) ? (parsed as VerifyTfliteResult) : undefined;
}
