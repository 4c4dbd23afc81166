// The resource model's view (McuGraph) of an Int8Graph — e.g. one decoded from a .tflite file — so checkFit judges
// the model a device actually received, not the topology it was converted from. The graph is already in TFLite's
// op form: fused ReLU/ReLU6 are attributes (no op), dense weights are [out, in], conv weights OHWI.
import { ProtoError } from '../errors.js';
import type { Int8Graph } from '../int8/graph.js';
import { elementCount, type McuGraph, type McuOp, type McuOpKind } from './layer-graph.js';

/** The TFLite builtin each Int8Graph op kind is; `softmax` is the int8 softmax op appended after the logits. */
const BUILTIN_OF: Readonly<Record<string, McuOpKind>> = {
  fullyConnected: 'FULLY_CONNECTED',
  conv2d: 'CONV_2D',
  maxPool2d: 'MAX_POOL_2D',
  averagePool2d: 'AVERAGE_POOL_2D',
  reshape: 'RESHAPE',
  softmax: 'SOFTMAX',
};

/**
 * The operator graph of an int8 model for {@link checkFit} / {@link estimateMcuFit} (format `int8`). Weighted ops
 * count weights, int32 biases and per-output-channel parameters from the graph's own arrays; multiply-accumulates
 * are weights × output positions (conv) or weights (fully connected: TFLite's int8 FC runs one row here).
 * @throws ProtoError PROTO_ERR_UNSUPPORTED_LAYER for an op kind the resource model does not know.
 */
export function mcuGraphOfInt8(graph: Int8Graph): McuGraph {
  const ops = graph.ops.map((op): McuOp => {
    const kind = BUILTIN_OF[op.kind];
    if (!kind) throw new ProtoError('PROTO_ERR_UNSUPPORTED_LAYER', `int8 op ${JSON.stringify(op.kind)} is not in the MCU resource model`);
    const input = graph.tensors[op.input];
    const output = graph.tensors[op.output];
    const base: McuOp = {
      kind, layer: output.name, inputShape: [...input.shape], outputShape: [...output.shape],
      weightCount: 0, biasCount: 0, outputChannels: 0, macs: 0, kernelVolume: 0,
    };
    if (!('weights' in op)) return base;
    const outputChannels = op.weightShape[0];
    // Per-output-channel weights: every output position of channel c runs one dot product of weights / channels.
    const positions = op.kind === 'conv2d' ? elementCount(output.shape) / outputChannels : 1;
    return {
      ...base,
      weightCount: op.weights.length,
      biasCount: op.bias.length,
      outputChannels,
      macs: positions * op.weights.length,
      kernelVolume: op.kind === 'conv2d' ? op.weights.length / outputChannels : 0,
    };
  });
  return { inputShape: [...graph.tensors[graph.input].shape], ops };
}
