// Int8Graph → .tflite, fully integer as TFLite Micro expects (TFLite int8 quantization spec): int8 input and output,
// activations per tensor, weights int8 per output channel (quantized_dimension 0, zero points 0), biases int32 at
// scale inputScale × weightScale[c]. Activation shapes gain the batch dimension 1 (NHWC / [1, features]).
import { ProtoError } from '../errors.js';
import type { Int8Graph } from '../int8/graph.js';
import { shapeSize } from '../weights.js';
import { emitConv2d, emitFullyConnected, emitPool2d, emitReshape, int32LeBytes } from './emit-ops.js';
import { TfliteWriter } from './tflite-writer.js';

export interface EncodeTfliteOptions {
  /** Model.description; default names fedfleet and the encoding. */
  description?: string;
}

/**
 * Writes `graph` as a fully int8 .tflite (TFLite schema v3). decodeTfliteInt8 reads it back to an equal graph.
 * @throws ProtoError PROTO_ERR_BAD_TENSOR when an op's weights do not match its channels.
 */
export function encodeTfliteInt8(graph: Int8Graph, options: EncodeTfliteOptions = {}): Uint8Array {
  const w = new TfliteWriter();
  // Activation tensors keep their graph indices (0 … n−1); constants follow.
  for (const t of graph.tensors) {
    w.addTensor({
      name: t.name, shape: [1, ...t.shape], type: 'INT8',
      quant: { scales: [t.quant.scale], zeroPoints: [t.quant.zeroPoint], quantizedDimension: 0 },
    });
  }
  for (const op of graph.ops) {
    const name = graph.tensors[op.output].name;
    switch (op.kind) {
      case 'fullyConnected':
      case 'conv2d': {
        const channels = op.bias.length;
        if (shapeSize(op.weightShape) !== op.weights.length || op.weightScales.length !== channels || op.weightShape[0] !== channels) {
          throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${name}: weights [${op.weightShape.join(', ')}] do not match ${channels} channels`);
        }
        const zeroPoints = new Array<number>(channels).fill(0);
        const inputScale = graph.tensors[op.input].quant.scale;
        const weights = w.addTensor({
          name: `${name}/kernel`, shape: op.weightShape, type: 'INT8',
          data: new Uint8Array(op.weights.buffer, op.weights.byteOffset, op.weights.byteLength),
          quant: { scales: op.weightScales, zeroPoints, quantizedDimension: 0 },
        });
        // Stored as float32: the float32 product TFLite checks the bias scale against (kernel_util.cc).
        const biasScales = Array.from(op.weightScales, (s) => inputScale * s);
        const bias = w.addTensor({
          name: `${name}/bias`, shape: [channels], type: 'INT32', data: int32LeBytes(op.bias),
          quant: { scales: biasScales, zeroPoints, quantizedDimension: 0 },
        });
        const tensors = { input: op.input, weights, bias, output: op.output };
        if (op.kind === 'fullyConnected') emitFullyConnected(w, tensors, op.activation, true);
        else emitConv2d(w, tensors, op, true);
        break;
      }
      case 'maxPool2d':
      case 'averagePool2d':
        emitPool2d(w, op.kind, op.input, op.output, op, true);
        break;
      case 'reshape':
        emitReshape(w, op.input, op.output, [1, ...graph.tensors[op.output].shape]);
        break;
      default: {
        // A new Int8Op kind must be written here (and read in decode-int8.ts): tsc stops at this line until it is.
        const unwritten: never = op;
        throw new ProtoError('PROTO_ERR_BAD_TFLITE', `op ${(unwritten as { kind: string }).kind} has no TFLite encoding`);
      }
    }
  }
  return w.finish({
    inputs: [graph.input], outputs: [graph.output],
    description: options.description ?? 'fedfleet int8 model (TFLite int8 quantization spec)',
  });
}
