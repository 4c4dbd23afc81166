import { elementCount, type McuGraph, type McuOp } from './layer-graph.js';
import type { Encoding } from '../encoding.js';
import { planGreedy, type PlannedBuffer } from './greedy-memory-planner.js';
import { BIAS_BYTES, WEIGHT_BYTES } from './flash-estimate.js';

/**
 * The tensor arena TensorFlow Lite Micro needs for a model: activation buffers and kernel scratch placed by the
 * greedy planner, plus persistent allocations.
 */

/** Bytes per activation element: fp16 models compute in fp32 (their DEQUANTIZE ops output float32). */
export const ACTIVATION_BYTES: Readonly<Record<Encoding, number>> = { fp32: 4, fp16: 4, int8: 1 };

/**
 * ESTIMATE: persistent runtime allocations independent of the model's size — TfLiteEvalTensor and node arrays,
 * allocation bookkeeping and the interpreter's own state at the arena tail.
 */
export const RUNTIME_OVERHEAD_BYTES = 4096;

/** int8 conv and fully connected keep a per-channel output multiplier and shift (int32 each) in OpData. */
export const REQUANT_BYTES_PER_CHANNEL = 8;

/**
 * Scratch a kernel asks the planner for, live only while the op runs. int8 ops run CMSIS-NN's DSP path on
 * Cortex-M4/M7: `arm_convolve_s8_get_buffer_size` = 2 × Cin × Kh × Kw × sizeof(int16) (im2col of two columns),
 * `arm_avgpool_s8_get_buffer_size` = C × sizeof(int32); fully connected, max pool and softmax need none.
 * Float ops run the reference kernels, which need none.
 */
export function scratchBytes(op: McuOp, format: Encoding): number {
  if (format !== 'int8') return 0;
  if (op.kind === 'CONV_2D') return 2 * op.kernelVolume * 2;
  if (op.kind === 'AVERAGE_POOL_2D') return (op.outputShape[op.outputShape.length - 1] ?? 1) * 4;
  return 0;
}

export interface ArenaEstimate {
  /** Peak of the greedy plan: activations, scratch and, for fp16, the dequantized float weights. */
  plannedBytes: number;
  /** Persistent allocations: the runtime overhead estimate plus int8 per-channel requantization parameters. */
  persistentBytes: number;
  totalBytes: number;
}

/** Lifetimes of a sequential graph: the input lives at op 0, op k's output from op k to op k + 1. */
export function arenaBuffers(graph: McuGraph, format: Encoding): PlannedBuffer[] {
  const last = graph.ops.length - 1;
  const buffers: PlannedBuffer[] = [{ sizeBytes: elementCount(graph.inputShape) * ACTIVATION_BYTES[format], firstUse: 0, lastUse: 0 }];
  graph.ops.forEach((op, k) => {
    buffers.push({ sizeBytes: elementCount(op.outputShape) * ACTIVATION_BYTES[format], firstUse: k, lastUse: Math.min(k + 1, last) });
    const scratch = scratchBytes(op, format);
    if (scratch > 0) buffers.push({ sizeBytes: scratch, firstUse: k, lastUse: k });
    // The converter places fp16 DEQUANTIZE ops first, so each float copy lives from the start to its consumer.
    if (format === 'fp16' && op.weightCount > 0) {
      buffers.push({ sizeBytes: op.weightCount * WEIGHT_BYTES.fp32, firstUse: 0, lastUse: k });
      if (op.biasCount > 0) buffers.push({ sizeBytes: op.biasCount * BIAS_BYTES.fp32, firstUse: 0, lastUse: k });
    }
  });
  return buffers;
}

export function estimateArena(graph: McuGraph, format: Encoding): ArenaEstimate {
  const { arenaBytes } = planGreedy(arenaBuffers(graph, format));
  let persistentBytes = RUNTIME_OVERHEAD_BYTES;
  if (format === 'int8') {
    for (const op of graph.ops) if (op.weightCount > 0) persistentBytes += op.outputChannels * REQUANT_BYTES_PER_CHANNEL;
  }
  return { plannedBytes: arenaBytes, persistentBytes, totalBytes: arenaBytes + persistentBytes };
}
