// Calibration statistics of a float model: per tensor (the input, then every layer's output) exact min/max/count and
// a power-of-two aligned histogram (calibration-histogram.ts). Devices collect them on their own data and report
// only these numbers; the hub merges them — exactly the statistics of the union of the devices' data — and turns
// them into the activation ranges buildInt8Graph quantizes with (TFLite int8 spec: activations asymmetric per
// tensor from calibrated ranges). No example leaves a device.
import { ProtoError } from '../errors.js';
import { shapeSize } from '../weights.js';
import type { CalibrationRanges } from './calibrate.js';
import {
  HistogramAccumulator, calibrationBins, checkHistogram, mergeHistograms, percentileRange, type TensorHistogram,
} from './calibration-histogram.js';
import { floatForward, layerOutputShape, type FloatModel } from './float-model.js';

export interface CalibrationStats {
  /** Examples the statistics cover. */
  exampleCount: number;
  /** The model input (named `input`) first, then one per FloatModel layer, named as the layer, in order. */
  tensors: TensorHistogram[];
}

export interface CalibrationBinsOptions {
  /** Most bins per tensor histogram; default DEFAULT_CALIBRATION_BINS (2048), 0 = the default, at most 65,536. */
  bins?: number;
}

/** Name of the input tensor in calibration statistics (and of the int8 graph's input tensor). */
export const CALIBRATION_INPUT_NAME = 'input';

function bad(detail: string): ProtoError {
  return new ProtoError('PROTO_ERR_BAD_CALIBRATION', detail);
}

/**
 * Runs the float model over `inputs` (each one example, row-major, TF.js layout) once and collects the statistics
 * of the input and of every layer's post-activation output. One pass, so `inputs` may be a one-shot generator.
 * @throws ProtoError PROTO_ERR_NON_FINITE when a tensor holds NaN or ±Infinity, PROTO_ERR_BAD_TENSOR for an input
 *   of the wrong size, PROTO_ERR_BAD_CALIBRATION for a bad bin budget.
 */
export function collectCalibrationStats(model: FloatModel, inputs: Iterable<Float32Array>, options: CalibrationBinsOptions = {}): CalibrationStats {
  const bins = calibrationBins(options.bins);
  const input = new HistogramAccumulator(CALIBRATION_INPUT_NAME, bins);
  const layers = model.layers.map((layer) => new HistogramAccumulator(layer.name, bins));
  let exampleCount = 0;
  for (const x of inputs) {
    floatForward(model, x, (index, output) => layers[index].add(output));
    input.add(x);
    exampleCount += 1;
  }
  return { exampleCount, tensors: [input.snapshot(), ...layers.map((acc) => acc.snapshot())] };
}

/**
 * Merges statistics of the same model from several devices: bin for bin what collectCalibrationStats gives on the
 * union of their data, when every part used the same bin budget as `options.bins` (a part with a larger budget is
 * coarsened too; one with a smaller budget makes the merge no finer than it).
 * @throws ProtoError PROTO_ERR_BAD_CALIBRATION when there is nothing to merge, the parts' tensors differ in number
 *   or names, or a histogram is malformed.
 */
export function mergeCalibrationStats(all: readonly CalibrationStats[], options: CalibrationBinsOptions = {}): CalibrationStats {
  const bins = calibrationBins(options.bins);
  if (all.length === 0) throw bad('no statistics to merge');
  const names = all[0].tensors.map((t) => t.name);
  let exampleCount = 0;
  all.forEach((stats, part) => {
    if (stats.tensors.length !== names.length || stats.tensors.some((t, i) => t.name !== names[i])) {
      throw bad(`part ${part} has tensors [${stats.tensors.map((t) => t.name).join(', ')}], part 0 has [${names.join(', ')}]`);
    }
    exampleCount += stats.exampleCount;
  });
  if (!Number.isSafeInteger(exampleCount) || exampleCount < 0) throw bad(`merged example count ${exampleCount} is not a safe integer`);
  return { exampleCount, tensors: names.map((name, i) => mergeHistograms(name, all.map((stats) => stats.tensors[i]), bins)) };
}

export interface PercentileOptions {
  /**
   * Percentile p in [50, 100] of every tensor's range: [the (100 − p)-th, the p-th percentile], each estimated to
   * within one histogram bin on the side that keeps it (see percentileRange). Default 100: exact min/max, equal to
   * calibrateRanges on the same data. Zero is added to every range later, by activationQuant (TFLite spec).
   */
  percentile?: number;
}

/**
 * Activation ranges for buildInt8Graph from calibration statistics (input first, then one per layer).
 * @throws ProtoError PROTO_ERR_BAD_CALIBRATION for a percentile outside [50, 100] or statistics without tensors.
 */
export function rangesFromStats(stats: CalibrationStats, options: PercentileOptions = {}): CalibrationRanges {
  const percentile = options.percentile ?? 100;
  if (!Number.isFinite(percentile) || percentile < 50 || percentile > 100) throw bad(`percentile must be in [50, 100], got ${percentile}`);
  if (stats.tensors.length === 0) throw bad('statistics have no tensors');
  const ranges = stats.tensors.map((t) => percentileRange(t, percentile));
  return { input: ranges[0], layers: ranges.slice(1) };
}

/**
 * Checks that statistics belong to `model` (the hub's check of a device report): every histogram well formed, the
 * input then one tensor per layer, named as the layers, each counting exampleCount × the tensor's size values.
 * @throws ProtoError PROTO_ERR_BAD_CALIBRATION naming the first mismatch.
 */
export function checkStatsForModel(stats: CalibrationStats, model: FloatModel): void {
  const expected = [{ name: CALIBRATION_INPUT_NAME, size: shapeSize(model.inputShape) }];
  let shape: readonly number[] = model.inputShape;
  for (const layer of model.layers) {
    shape = layerOutputShape(layer, shape);
    expected.push({ name: layer.name, size: shapeSize(shape) });
  }
  if (!Number.isSafeInteger(stats.exampleCount) || stats.exampleCount < 0) throw bad(`example count ${stats.exampleCount} is not a non-negative safe integer`);
  if (stats.tensors.length !== expected.length) throw bad(`${stats.tensors.length} tensors, the model has ${expected.length} (input and ${model.layers.length} layers)`);
  stats.tensors.forEach((t, i) => {
    checkHistogram(t);
    if (t.name !== expected[i].name) throw bad(`tensor ${i} is ${JSON.stringify(t.name)}, the model's is ${JSON.stringify(expected[i].name)}`);
    if (t.count !== stats.exampleCount * expected[i].size) {
      throw bad(`tensor ${JSON.stringify(t.name)} counts ${t.count} values, ${stats.exampleCount} examples of ${expected[i].size} values make ${stats.exampleCount * expected[i].size}`);
    }
  });
}
