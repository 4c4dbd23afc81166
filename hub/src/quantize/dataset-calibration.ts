/**
 * Calibration at the hub on an uploaded data set (POST /v1/datasets), to compare with the fleet's: the float forward
 * pass over its examples, in slices, the event loop getting a turn between slices so MQTT and HTTP keep being served
 * (a tiny CNN over 10,000 examples takes seconds). Slices merge exactly (histograms on power-of-two aligned bins), so
 * the result is the statistics of all examples at once.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { collectCalibrationStatsInSlices, shapeSize, type CalibrationStats, type FloatModel } from '@fedfleet/proto';
import type { ValidationData } from '../datasets/dataset-registry.js';

/** Examples per slice: a few tens of milliseconds of float forward passes for the built-in models. */
export const DATASET_SLICE_EXAMPLES = 32;

export interface DatasetCalibrationOptions {
  /** Most examples used, the data set's first ones; 0 = all. */
  maxExamples: number;
  /** Most histogram bins per tensor. */
  bins: number;
  /** Asked before every slice: true stops the work (the hub closes) and resolves to undefined. */
  shouldStop: () => boolean;
}

function* examples(x: Float32Array, size: number, from: number, to: number): Generator<Float32Array> {
  for (let i = from; i < to; i++) yield x.subarray(i * size, (i + 1) * size);
}

export async function collectDatasetStats(
  model: FloatModel, data: ValidationData, options: DatasetCalibrationOptions,
): Promise<CalibrationStats | undefined> {
  const size = shapeSize(model.inputShape);
  const count = options.maxExamples > 0 ? Math.min(data.count, options.maxExamples) : data.count;
  if (options.shouldStop()) return undefined;
  return collectCalibrationStatsInSlices(model, (from, to) => examples(data.x, size, from, to), count, {
    bins: options.bins,
    sliceExamples: DATASET_SLICE_EXAMPLES,
    between: async () => {
      await nextTurn();
      return !options.shouldStop();
    },
  });
}
