import type { McuGraph } from './layer-graph.js';
import type { Encoding } from '../encoding.js';

/**
 * Flash a model needs in TFLite form: constant buffers (weights, biases), quantization parameters and the
 * flatbuffer's graph description. The interpreter's code is firmware, not model, and is not counted.
 */

/** Bytes per stored weight element. */
export const WEIGHT_BYTES: Readonly<Record<Encoding, number>> = { fp32: 4, fp16: 2, int8: 1 };
/** Bytes per stored bias element: int8 models keep int32 biases (scale = inputScale × weightScale) [TFLite int8 spec]. */
export const BIAS_BYTES: Readonly<Record<Encoding, number>> = { fp32: 4, fp16: 2, int8: 4 };

/**
 * Quantization parameters per channel (or per tensor), from the TFLite schema's QuantizationParameters:
 * `scale: [float]` (4 bytes) and `zero_point: [long]` (8 bytes — the schema stores zero points as int64).
 */
export const QUANT_PARAM_BYTES_PER_CHANNEL = 4 + 8;

/**
 * ESTIMATE, not measured: flatbuffer bytes per operator — the Operator table (opcode index, input/output index
 * vectors, builtin options) plus the Tensor tables it introduces (shape vector, type, buffer index, name string,
 * quantization table offset) and Buffer entries with their alignment padding; ~80 + 3 × ~100 + 2 × ~28 bytes,
 * rounded up to 512 because converter tensor names are long.
 */
export const GRAPH_BYTES_PER_OP = 512;
/** ESTIMATE: Model root, SubGraph, operator-code table, description and the `min_runtime_version` metadata. */
export const GRAPH_FIXED_BYTES = 1024;

export interface FlashEstimate {
  weightBytes: number;
  biasBytes: number;
  quantParamBytes: number;
  graphBytes: number;
  totalBytes: number;
}

export function estimateFlash(graph: McuGraph, format: Encoding): FlashEstimate {
  let weightBytes = 0;
  let biasBytes = 0;
  let quantParamBytes = 0;
  let opCount = 0;
  for (const op of graph.ops) {
    weightBytes += op.weightCount * WEIGHT_BYTES[format];
    biasBytes += op.biasCount * BIAS_BYTES[format];
    opCount += 1;
    if (format === 'int8' && op.weightCount > 0) {
      // Weights per output channel; the bias follows the weight's channels [TFLite int8 spec].
      quantParamBytes += op.outputChannels * QUANT_PARAM_BYTES_PER_CHANNEL * (op.biasCount > 0 ? 2 : 1);
    }
    // fp16 post-training quantization adds a DEQUANTIZE op per constant tensor (weights, bias) to reach fp32.
    if (format === 'fp16' && op.weightCount > 0) opCount += op.biasCount > 0 ? 2 : 1;
  }
  // int8 activations: one per-tensor (scale, zero point) for the graph input and every op output.
  if (format === 'int8') quantParamBytes += (1 + graph.ops.length) * QUANT_PARAM_BYTES_PER_CHANNEL;
  const graphBytes = GRAPH_FIXED_BYTES + opCount * GRAPH_BYTES_PER_OP;
  return { weightBytes, biasBytes, quantParamBytes, graphBytes, totalBytes: weightBytes + biasBytes + quantParamBytes + graphBytes };
}
