// Calibration statistics over many examples, a slice at a time, with the caller's code between slices (a look at
// the event loop, a cancellation or deadline check, progress). Slices merge exactly (power-of-two aligned bins), so
// slicing changes nothing but how often the caller gets control back: the result is collectCalibrationStats of all
// `count` examples at once. Used by the agent's calibrate command and the hub's data-set calibration.
import type { FloatModel } from './float-model.js';
import { collectCalibrationStats, mergeCalibrationStats, type CalibrationStats } from './calibration-stats.js';

export interface CalibrationSliceOptions {
  /** Most histogram bins per tensor. */
  bins: number;
  /** Examples per slice (≥ 1). */
  sliceExamples: number;
  /**
   * Runs after each slice with the number of examples done; may await (to yield) or throw (to stop). Returning false
   * stops the work quietly: the collection resolves to undefined.
   */
  between: (done: number) => Promise<boolean | void>;
}

export async function collectCalibrationStatsInSlices(
  model: FloatModel,
  examples: (from: number, to: number) => Iterable<Float32Array>,
  count: number,
  options: CalibrationSliceOptions,
): Promise<CalibrationStats | undefined> {
  const { bins } = options;
  const step = Math.max(1, Math.floor(options.sliceExamples));
  let merged: CalibrationStats | undefined;
  for (let from = 0; from < count || merged === undefined; from += step) {
    const to = Math.min(from + step, count);
    const slice = collectCalibrationStats(model, examples(from, to), { bins });
    merged = merged ? mergeCalibrationStats([merged, slice], { bins }) : slice;
    if ((await options.between(to)) === false) return undefined;
  }
  return merged;
}
