/**
 * Whether a device's EvalResult (federated evaluation, DESIGN §4) holds metrics that can be weighted into a fleet
 * figure: a finite loss, an accuracy in [0, 1] and a non-negative integer example count. One check for every capability
 * that asks devices to evaluate (round evaluators, a quantization job's int8 evaluation).
 */
import type { EvalResultProps } from '@fedfleet/proto';
import { DEFAULT_WEIGHT_CAP_FACTOR, medianWeightCap } from './update-weight.js';

export interface EvalMetrics {
  examples: number;
  loss: number;
  accuracy: number;
}

export type EvalVerdict = { ok: true; metrics: EvalMetrics } | { ok: false; reason: string };

export function checkEvalResult(result: EvalResultProps): EvalVerdict {
  const loss = Number(result.loss ?? NaN);
  const accuracy = Number(result.accuracy ?? NaN);
  const examples = Number(result.exampleCount ?? 0);
  if (!Number.isFinite(loss)) return { ok: false, reason: `loss ${loss} is not finite` };
  if (!(accuracy >= 0 && accuracy <= 1)) return { ok: false, reason: `accuracy ${accuracy} is not in [0, 1]` };
  if (!Number.isSafeInteger(examples) || examples < 0) return { ok: false, reason: `example count ${examples} is not a non-negative integer` };
  return { ok: true, metrics: { examples, loss, accuracy } };
}

export interface FleetEvalMetrics {
  /** Σ wₖ accₖ / Σ wₖ. */
  accuracy: number;
  loss: number;
  /** Σ wₖ: the examples the figure counts (a claim above the cap counts only up to it). */
  examples: number;
  devices: number;
}

/**
 * The fleet figure of a federated evaluation: the mean of the devices' accuracy and loss weighted by their example
 * counts — but nₖ is each device's own claim, so one device claiming 10⁹ examples would report the fleet's accuracy
 * by itself. The weight is bounded by the rule updates get (update-weight.ts): wₖ = min(nₖ, ⌊capFactor × lower
 * median of the nⱼ⌋), which ⌈(n − 1)/2⌉ or fewer inflated claims cannot raise. Devices with no examples don't count;
 * undefined when none has any.
 */
export function fleetEvalMetrics(samples: readonly EvalMetrics[], capFactor = DEFAULT_WEIGHT_CAP_FACTOR): FleetEvalMetrics | undefined {
  const counted = samples.filter((s) => s.examples > 0);
  if (counted.length === 0) return undefined;
  const cap = medianWeightCap(counted.map((s) => s.examples), capFactor);
  let examples = 0;
  let accuracy = 0;
  let loss = 0;
  for (const s of counted) {
    const w = Math.min(s.examples, cap);
    examples += w;
    accuracy += w * s.accuracy;
    loss += w * s.loss;
  }
  return { accuracy: accuracy / examples, loss: loss / examples, examples, devices: counted.length };
}
