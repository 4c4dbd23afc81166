// FloatModel → .tflite in FLOAT32: the same operators as the int8 export, weights moved from TF.js layouts
// (dense [in, out], conv [kh, kw, in, out]) to TFLite's (dense [out, in], conv OHWI), batch dimension 1 added.
import { ProtoError } from '../errors.js';
import { encodeFloat32Le } from '../float32-le.js';
import { layerOutputShape, type FloatModel } from '../int8/float-model.js';
import { channelsLastToFirst } from '../int8/transpose.js';
import { emitConv2d, emitFullyConnected, emitPool2d, emitReshape } from './emit-ops.js';
import type { EncodeTfliteOptions } from './encode-int8.js';
import { TfliteWriter } from './tflite-writer.js';

/**
 * Writes `model` as a FLOAT32 .tflite (TFLite schema v3), float input and output.
 * @throws ProtoError PROTO_ERR_BAD_TENSOR when a kernel does not match its input shape.
 */
export function encodeTfliteFloat(model: FloatModel, options: EncodeTfliteOptions = {}): Uint8Array {
  const w = new TfliteWriter();
  let shape: readonly number[] = model.inputShape;
  const input = w.addTensor({ name: 'input', shape: [1, ...shape], type: 'FLOAT32' });
  let current = input;
  for (const layer of model.layers) {
    const outShape = layerOutputShape(layer, shape); // also checks the kernel against the input shape
    const output = w.addTensor({ name: layer.name, shape: [1, ...outShape], type: 'FLOAT32' });
    switch (layer.kind) {
      case 'dense':
      case 'conv2d': {
        const channels = layer.kind === 'dense' ? layer.units : layer.filters;
        const weightShape = layer.kind === 'dense'
          ? [channels, layer.kernel.length / channels]
          : [channels, layer.kernelH, layer.kernelW, shape[2]];
        const weights = w.addTensor({
          name: `${layer.name}/kernel`, shape: weightShape, type: 'FLOAT32',
          data: encodeFloat32Le(channelsLastToFirst(layer.kernel, channels)),
        });
        const bias = w.addTensor({ name: `${layer.name}/bias`, shape: [channels], type: 'FLOAT32', data: encodeFloat32Le(layer.bias) });
        const tensors = { input: current, weights, bias, output };
        if (layer.kind === 'dense') emitFullyConnected(w, tensors, layer.activation, false);
        else emitConv2d(w, tensors, layer, false);
        break;
      }
      case 'maxPool2d':
      case 'averagePool2d':
        emitPool2d(w, layer.kind, current, output, { ...layer, filterH: layer.poolH, filterW: layer.poolW }, false);
        break;
      case 'flatten':
        emitReshape(w, current, output, [1, ...outShape]);
        break;
      default: {
        // A new FloatLayer kind must be written here: tsc stops at this line until it is.
        const unwritten: never = layer;
        throw new ProtoError('PROTO_ERR_UNSUPPORTED_LAYER', `layer ${(unwritten as { name: string }).name} has no TFLite encoding`);
      }
    }
    current = output;
    shape = outShape;
  }
  return w.finish({ inputs: [input], outputs: [current], description: options.description ?? 'fedfleet float32 model' });
}
