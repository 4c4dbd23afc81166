/**
 * The health check of an install (issue 10 item 2): the new model classifies held-out local examples — accuracy and
 * per-example latency percentiles — and the version it would replace runs the same examples as the baseline the
 * hub's health gate compares with. A model that throws, answers NaN or a class that does not exist cannot be
 * measured and fails at once; one whose accuracy is barely above guessing fails the sanity floor.
 */
import { nearestRank, type SelfTestProps } from '@fedfleet/proto';
import { AgentError } from '../errors.js';
import type { LoadedModel, SelfTestExample } from './types.js';

/** Accuracy below this multiple of chance (1 / numClasses) fails the self-test: the model is not doing its job. */
export const SELF_TEST_CHANCE_FACTOR = 1.5;
/** Below this many examples the accuracy is too noisy to judge; only throws and NaN are checked. */
export const SELF_TEST_MIN_EXAMPLES_FOR_FLOOR = 20;
/** Examples a self-test runs when the command does not say. */
export const DEFAULT_SELF_TEST_EXAMPLES = 256;

function finite(scores: Float32Array): boolean {
  for (let i = 0; i < scores.length; i++) if (!Number.isFinite(scores[i]!)) return false;
  return true;
}

/**
 * Runs `model` on `examples` one at a time (how a device serves), timing each with `clock` (ms).
 * Without examples the model still runs once on a zero input, so a payload that cannot infer is caught;
 * the result then says `examples: 0` and its accuracy is not a measurement.
 * @throws AgentError AGENT_ERR_SELF_TEST_FAILED when an inference throws or its output is not a finite score per class.
 */
export async function runSelfTest(model: LoadedModel, examples: readonly SelfTestExample[], clock: () => number): Promise<SelfTestProps> {
  const { numClasses, input } = model.manifest;
  const probe = examples.length > 0 ? examples : [{ x: new Float32Array(input.shape.reduce((a, b) => a * b, 1)), label: -1 }];
  const latenciesMs = new Float64Array(probe.length);
  let correct = 0;
  for (let i = 0; i < probe.length; i++) {
    const { x, label } = probe[i]!;
    const startMs = clock();
    let prediction;
    try {
      prediction = await model.predict(x);
    } catch (error) {
      throw new AgentError('AGENT_ERR_SELF_TEST_FAILED', `${model.manifest.versionId} threw on example ${i}: ${(error as Error).message}`, { cause: error });
    }
    latenciesMs[i] = Math.max(0, clock() - startMs);
    const { classIndex, scores } = prediction;
    if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= numClasses || scores.length !== numClasses || !finite(scores)) {
      throw new AgentError('AGENT_ERR_SELF_TEST_FAILED', `${model.manifest.versionId} gave no finite score per class on example ${i} (class ${classIndex}, ${scores.length} scores)`);
    }
    if (classIndex === label) correct++;
  }
  latenciesMs.sort();
  return {
    examples: examples.length,
    accuracy: examples.length > 0 ? correct / examples.length : 0,
    p50Ms: latenciesMs[nearestRank(50, probe.length) - 1]!,
    p95Ms: latenciesMs[nearestRank(95, probe.length) - 1]!,
  };
}

/** Why a measured self-test is not good enough to serve, or undefined. */
export function selfTestFloorFailure(result: SelfTestProps, numClasses: number): string | undefined {
  const examples = result.examples ?? 0;
  if (examples < SELF_TEST_MIN_EXAMPLES_FOR_FLOOR) return undefined;
  const floor = Math.min(1, SELF_TEST_CHANCE_FACTOR / numClasses);
  const accuracy = result.accuracy ?? 0;
  if (accuracy >= floor) return undefined;
  return `accuracy ${(accuracy * 100).toFixed(1)} % on ${examples} held-out examples is below the floor ${(floor * 100).toFixed(1)} % (${SELF_TEST_CHANCE_FACTOR} × chance)`;
}
