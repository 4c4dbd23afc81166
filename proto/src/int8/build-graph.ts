// Builds an Int8Graph from a float model and calibrated activation ranges, per the TFLite int8 spec (params.ts).
// Float arithmetic happens here, once; the graph it returns runs integer-only.
import { ProtoError } from '../errors.js';
import type { CalibrationRanges } from './calibrate.js';
import { layerOutputShape, type FloatModel } from './float-model.js';
import type { Int8Graph, Int8Op, Int8TensorInfo } from './graph.js';
import {
  activationQuant, activationRange, channelRequant, quantizeBias, quantizeWeightsPerChannel,
} from './params.js';
import { channelsLastToFirst } from './transpose.js';

export function buildInt8Graph(model: FloatModel, ranges: CalibrationRanges): Int8Graph {
  if (ranges.layers.length !== model.layers.length) {
    throw new ProtoError('PROTO_ERR_BAD_QUANT_PARAMS', `${ranges.layers.length} ranges for ${model.layers.length} layers`);
  }
  const tensors: Int8TensorInfo[] = [
    { name: 'input', shape: [...model.inputShape], quant: activationQuant(ranges.input[0], ranges.input[1]) },
  ];
  const ops: Int8Op[] = [];
  model.layers.forEach((layer, index) => {
    const input = tensors.length - 1;
    const inT = tensors[input];
    const shape = layerOutputShape(layer, inT.shape);
    const output = tensors.length;
    if (layer.kind === 'dense' || layer.kind === 'conv2d') {
      const channels = layer.kind === 'dense' ? layer.units : layer.filters;
      const weightShape = layer.kind === 'dense'
        ? [channels, layer.kernel.length / channels]
        : [channels, layer.kernelH, layer.kernelW, layer.kernel.length / (channels * layer.kernelH * layer.kernelW)];
      const w = quantizeWeightsPerChannel(channelsLastToFirst(layer.kernel, channels), weightShape);
      const quant = activationQuant(ranges.layers[index][0], ranges.layers[index][1]);
      tensors.push({ name: layer.name, shape, quant });
      const clamp = activationRange(layer.activation, quant);
      const common = {
        input, output, weights: w.q, weightShape, weightScales: w.scales,
        bias: quantizeBias(layer.bias, inT.quant.scale, w.scales),
        ...channelRequant(inT.quant.scale, w.scales, quant.scale),
        activation: layer.activation, activationMin: clamp.min, activationMax: clamp.max,
      };
      ops.push(layer.kind === 'dense'
        ? { kind: 'fullyConnected', ...common }
        : { kind: 'conv2d', ...common, strideH: layer.strideH, strideW: layer.strideW, padding: layer.padding });
    } else if (layer.kind === 'flatten') {
      tensors.push({ name: layer.name, shape, quant: { ...inT.quant } });
      ops.push({ kind: 'reshape', input, output });
    } else {
      // TFLite pooling keeps the input's scale and zero point; the calibrated range of a pool output is inside
      // its input's range anyway.
      tensors.push({ name: layer.name, shape, quant: { ...inT.quant } });
      ops.push({
        kind: layer.kind, input, output, filterH: layer.poolH, filterW: layer.poolW, strideH: layer.strideH,
        strideW: layer.strideW, padding: layer.padding, activationMin: -128, activationMax: 127,
      });
    }
  });
  return { tensors, ops, input: 0, output: tensors.length - 1 };
}
