/**
 * Whether a device's EvalResult (federated evaluation, DESIGN §4) holds metrics that can be weighted into a fleet
 * figure: a finite loss, an accuracy in [0, 1] and a non-negative integer example count. One check for every capability
 * that asks devices to evaluate (round evaluators, a quantization job's int8 evaluation).
 */
import type { EvalResultProps } from '@fedfleet/proto';

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
