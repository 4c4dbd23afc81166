/**
 * The health check of an install (issue 10 item 2): the new model classifies held-out local examples — accuracy and
 * per-example latency percentiles — and the version it would replace runs the same examples as the baseline the
 * hub's health gate compares with. A model that throws, answers NaN or a class that does not exist cannot be
 * measured and fails at once; one whose accuracy is barely above guessing fails the sanity floor.
 */
import { nearestRank, type SelfTestProps } from '@fedfleet/proto';
import { AgentError } from '../errors.js';
import { inputLength } from './model-input.js';
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

/** One model's measurement in progress. */
class Measurement {
  readonly latenciesMs: Float64Array;
  correct = 0;
  constructor(readonly model: LoadedModel, examples: number) {
    this.latenciesMs = new Float64Array(examples);
  }

  /** Runs example `i`; throws AGENT_ERR_SELF_TEST_FAILED when the model throws or gives no finite score per class. */
  async run(i: number, { x, label }: SelfTestExample, clock: () => number): Promise<void> {
    const { versionId, numClasses } = this.model.manifest;
    const startMs = clock();
    let prediction;
    try {
      prediction = await this.model.predict(x);
    } catch (error) {
      throw new AgentError('AGENT_ERR_SELF_TEST_FAILED', `${versionId} threw on example ${i}: ${(error as Error).message}`, { cause: error });
    }
    const { classIndex, scores, computeMs } = prediction;
    this.latenciesMs[i] = Math.max(0, computeMs ?? clock() - startMs);
    if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= numClasses || scores.length !== numClasses || !finite(scores)) {
      throw new AgentError('AGENT_ERR_SELF_TEST_FAILED', `${versionId} gave no finite score per class on example ${i} (class ${classIndex}, ${scores.length} scores)`);
    }
    if (classIndex === label) this.correct++;
  }

  result(examples: number): SelfTestProps {
    const sorted = this.latenciesMs.slice().sort();
    return {
      examples,
      accuracy: examples > 0 ? this.correct / examples : 0,
      p50Ms: sorted[nearestRank(50, sorted.length) - 1]!,
      p95Ms: sorted[nearestRank(95, sorted.length) - 1]!,
    };
  }
}

export interface PairedSelfTest {
  selfTest: SelfTestProps;
  /** The champion on the same examples; absent without a champion, or when it failed (see `baselineError`). */
  baseline?: SelfTestProps;
  baselineError?: AgentError;
}

/**
 * Runs the new model (`challenger`) and the version it would replace (`champion`) on the same `examples`, one at a
 * time (how a device serves), timing each with `clock` (ms). The two are interleaved example by example, alternating
 * which goes first: load that varies over time — other processes on a board, the other devices of a simulated fleet
 * sharing one host — then weighs on both latencies alike, so the health gate's latency ratio compares like with like
 * (run one after the other, a busy second half made the later model look several times slower).
 * Without examples the challenger still runs once on a zero input, so a payload that cannot infer is caught; the
 * result then says `examples: 0` and its accuracy is not a measurement.
 * @throws AgentError AGENT_ERR_SELF_TEST_FAILED when the challenger throws or its output is not a finite score per
 *   class. A champion failing the same way only loses its baseline (`baselineError`): it is the reference, not a
 *   condition.
 */
export async function runPairedSelfTest(
  challenger: LoadedModel, champion: LoadedModel | undefined, examples: readonly SelfTestExample[], clock: () => number,
): Promise<PairedSelfTest> {
  const probe = examples.length > 0 ? examples : [{ x: new Float32Array(inputLength(challenger.manifest)), label: -1 }];
  const next = new Measurement(challenger, probe.length);
  let baseline: Measurement | undefined = champion && examples.length > 0 ? new Measurement(champion, probe.length) : undefined;
  let baselineError: AgentError | undefined;
  for (let i = 0; i < probe.length; i++) {
    const example = probe[i]!;
    const championFirst = i % 2 === 1;
    if (baseline && championFirst) ({ baseline, baselineError } = await runChampion(baseline, i, example, clock));
    await next.run(i, example, clock);
    if (baseline && !championFirst) ({ baseline, baselineError } = await runChampion(baseline, i, example, clock));
  }
  return {
    selfTest: next.result(examples.length),
    ...(baseline ? { baseline: baseline.result(examples.length) } : {}),
    ...(baselineError ? { baselineError } : {}),
  };
}

async function runChampion(
  baseline: Measurement, i: number, example: SelfTestExample, clock: () => number,
): Promise<{ baseline?: Measurement; baselineError?: AgentError }> {
  try {
    await baseline.run(i, example, clock);
    return { baseline };
  } catch (error) {
    return { baselineError: error as AgentError };
  }
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
