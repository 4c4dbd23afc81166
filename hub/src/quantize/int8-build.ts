/**
 * From calibration statistics to the bytes of a fully int8 .tflite: merge the statistics (device histograms merge
 * exactly: the merge equals the statistics of the union of their data), take each activation tensor's range at the
 * job's percentile (100 = exact min/max), build the int8 graph per the TFLite int8 spec and encode it as a TensorFlow
 * Lite flatbuffer with int8 input and output, as TFLite Micro expects.
 */
import {
  buildInt8Graph, encodeTfliteInt8, mergeCalibrationStats, rangesFromStats, type CalibrationStats, type FloatModel,
} from '@fedfleet/proto';
import type { TensorRange } from './quantization-repo.js';

export interface Int8BuildOptions {
  /** Percentile of every activation tensor's range (100 = exact min/max). */
  percentile: number;
  /** The bin budget the statistics were collected with (the merge coarsens to it). */
  bins: number;
  /** The .tflite's description field. */
  description: string;
}

export interface Int8Build {
  /** Examples behind the merged statistics. */
  exampleCount: number;
  /** The range each activation tensor is quantized with, input first. */
  ranges: TensorRange[];
  /** The .tflite file. */
  tflite: Uint8Array;
}

export function buildInt8Tflite(model: FloatModel, statistics: readonly CalibrationStats[], options: Int8BuildOptions): Int8Build {
  const merged = mergeCalibrationStats(statistics, { bins: options.bins });
  const ranges = rangesFromStats(merged, { percentile: options.percentile });
  const tflite = encodeTfliteInt8(buildInt8Graph(model, ranges), { description: options.description });
  const named = [ranges.input, ...ranges.layers].map(([min, max], i) => ({ name: merged.tensors[i]!.name, min, max }));
  return { exampleCount: merged.exampleCount, ranges: named, tflite };
}
