// Central calibration: per-tensor [min, max] of the input and of every layer's output over representative data,
// from the float forward pass. Federated calibration (calibration-stats.ts: devices report mergeable histograms)
// gives exactly these ranges at percentile 100; this stays the plain min/max reference it is tested against.
import { floatForward, type FloatModel } from './float-model.js';

export type Range = [min: number, max: number];

export interface CalibrationRanges {
  input: Range;
  /** One range per layer of the model, in order (post-activation output). */
  layers: Range[];
}

function widen(range: Range, values: Float32Array): void {
  let [min, max] = range;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  range[0] = min;
  range[1] = max;
}

/** Min/max per tensor over `inputs` (each one example, row-major). Empty data gives [0, 0] everywhere. */
export function calibrateRanges(model: FloatModel, inputs: Iterable<Float32Array>): CalibrationRanges {
  const input: Range = [Infinity, -Infinity];
  const layers: Range[] = model.layers.map(() => [Infinity, -Infinity]);
  for (const x of inputs) {
    widen(input, x);
    floatForward(model, x, (index, output) => widen(layers[index], output));
  }
  const finish = (r: Range): Range => (r[0] > r[1] ? [0, 0] : r);
  return { input: finish(input), layers: layers.map(finish) };
}
