/** What every loaded model checks and computes around inference, whatever its runtime. */
import { shapeSize, type BundleManifest } from '@fedfleet/proto';
import { AgentError } from '../errors.js';

/** Values one example has: the product of the manifest's input shape. */
export function inputLength(manifest: BundleManifest): number {
  return shapeSize(manifest.input.shape);
}

/**
 * @param where names the input in the error's detail, e.g. `inputs[3]: ` in a batch.
 * @throws AgentError AGENT_ERR_BAD_INPUT when `input` is not one example of finite numbers.
 */
export function checkModelInput(manifest: BundleManifest, input: Float32Array, where = ''): void {
  const expected = inputLength(manifest);
  if (!(input instanceof Float32Array) || input.length !== expected) {
    throw new AgentError('AGENT_ERR_BAD_INPUT', `${where}expected ${expected} values (shape [${manifest.input.shape}]), got ${input?.length}`);
  }
  for (let i = 0; i < input.length; i++) {
    if (!Number.isFinite(input[i]!)) throw new AgentError('AGENT_ERR_BAD_INPUT', `${where}value ${i} is not a finite number`);
  }
}

/** Index of the largest score (the first on ties, as tf.argMax and argMaxInt8 do). */
export function argMaxScores(scores: Float32Array): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}
