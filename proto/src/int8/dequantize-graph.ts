// The float model an Int8Graph's parameters stand for: weights scale × q, biases q × inputScale × weightScale.
// The reference for checking the integer-only kernels (the float model "seen through" int8 parameters).
import type { FloatLayer, FloatModel } from './float-model.js';
import type { Int8Graph } from './graph.js';
import { channelsFirstToLast } from './transpose.js';

export function dequantizeGraph(graph: Int8Graph): FloatModel {
  const layers: FloatLayer[] = graph.ops.map((op): FloatLayer => {
    const name = graph.tensors[op.output].name;
    if (op.kind === 'reshape') return { kind: 'flatten', name };
    if (!('weights' in op)) {
      return {
        kind: op.kind, name, poolH: op.filterH, poolW: op.filterW, strideH: op.strideH, strideW: op.strideW,
        padding: op.padding,
      };
    }
    const channels = op.bias.length;
    const inner = op.weights.length / channels;
    const first = new Float32Array(op.weights.length);
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < inner; i++) first[c * inner + i] = op.weights[c * inner + i] * op.weightScales[c];
    }
    const inputScale = graph.tensors[op.input].quant.scale;
    const bias = new Float32Array(channels);
    for (let c = 0; c < channels; c++) bias[c] = op.bias[c] * inputScale * op.weightScales[c];
    const kernel = channelsFirstToLast(first, channels);
    if (op.kind === 'fullyConnected') return { kind: 'dense', name, kernel, bias, units: channels, activation: op.activation };
    return {
      kind: 'conv2d', name, kernel, bias, filters: channels, kernelH: op.weightShape[1], kernelW: op.weightShape[2],
      strideH: op.strideH, strideW: op.strideW, padding: op.padding, activation: op.activation,
    };
  });
  return { inputShape: [...graph.tensors[graph.input].shape], layers };
}
