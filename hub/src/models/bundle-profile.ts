/**
 * The minimum device profile a bundle states (proto/docs/bundles.md#minimum-profile). An int8 .tflite is measured
 * with the MCU resource model on the decoded file itself (tensor arena and flash, what a microcontroller checks); a
 * TensorFlow.js payload gets a stated estimate, since a Node agent's memory use is not modelled byte by byte.
 */
import {
  decodeTfliteInt8, estimateArena, estimateFlash, isProtoError, mcuGraphOfInt8, parseLayerGraph, type BundleManifest,
} from '@fedfleet/proto';
import { convertingTopology } from './tflite-export.js';

export type MinProfile = BundleManifest['minProfile'];

/** float32 bytes per parameter a TF.js agent holds: the decoded weights, the tensors made from them, working copies. */
export const TFJS_BYTES_PER_PARAM = 4 * 3;
/** Activation bytes per input element when the resource model does not know the topology: input and one output, float32. */
const FALLBACK_ACTIVATION_BYTES_PER_INPUT = 4 * 2;

/**
 * An int8 .tflite's needs: arena and flash of the MCU resource model on the graph the device will run.
 * @throws HubError HUB_ERR_EXPORT_UNSUPPORTED when the file holds an op the resource model does not know.
 */
export function int8TfliteProfile(label: string, tflite: Uint8Array): MinProfile {
  const graph = convertingTopology(`${label} cannot be bundled`, () => mcuGraphOfInt8(decodeTfliteInt8(tflite)));
  return {
    ramBytes: estimateArena(graph, 'int8').totalBytes,
    flashBytes: estimateFlash(graph, 'int8').totalBytes,
    int8Only: true,
    runtime: 'int8-kernels',
  };
}

/**
 * A TensorFlow.js payload's needs, an estimate: RAM = parameters × 12 bytes + activations (the fp32 greedy plan of
 * the MCU resource model when it knows every layer, else input elements × 8 bytes); flash = the payload's size.
 */
export function tfjsProfile(input: { topologyJson: string; paramCount: number; inputShape: readonly number[]; payloadBytes: number }): MinProfile {
  let activationBytes: number;
  try {
    activationBytes = estimateArena(parseLayerGraph(input.topologyJson), 'fp32').plannedBytes;
  } catch (error) {
    if (!isProtoError(error)) throw error;
    activationBytes = input.inputShape.reduce((product, dim) => product * Math.max(1, dim), 1) * FALLBACK_ACTIVATION_BYTES_PER_INPUT;
  }
  return {
    ramBytes: input.paramCount * TFJS_BYTES_PER_PARAM + activationBytes,
    flashBytes: input.payloadBytes,
    int8Only: false,
    runtime: 'tfjs',
  };
}
