// An integer-only interpreter for an Int8Graph: one Int8Array per tensor, allocated once, ops run in order.
// Nothing between the int8 input and the int8 output is a float (quantizing a float input is a separate,
// optional step).
import { ProtoError } from '../errors.js';
import { shapeSize } from '../weights.js';
import { conv2dInt8 } from './conv2d.js';
import { fullyConnectedInt8 } from './fully-connected.js';
import type { Int8Graph } from './graph.js';
import { pool2dInt8 } from './pool2d.js';

export class Int8Interpreter {
  readonly graph: Int8Graph;
  /** One buffer per tensor of the graph. */
  private readonly buffers: Int8Array[];

  constructor(graph: Int8Graph) {
    this.graph = graph;
    this.buffers = graph.tensors.map((t) => new Int8Array(shapeSize(t.shape)));
  }

  /** The input buffer: write int8 codes here (or pass them to `invoke`). */
  get input(): Int8Array {
    return this.buffers[this.graph.input];
  }

  /**
   * Runs the graph on `input` (copied into the input buffer when given) and returns the output buffer, which the
   * next call overwrites.
   */
  invoke(input?: Int8Array): Int8Array {
    const { tensors, ops } = this.graph;
    const buffers = this.buffers;
    if (input) {
      if (input.length !== buffers[this.graph.input].length) {
        throw new ProtoError('PROTO_ERR_BAD_TENSOR', `input has ${input.length} codes, expected ${buffers[this.graph.input].length}`);
      }
      buffers[this.graph.input].set(input);
    }
    for (const op of ops) {
      const inT = tensors[op.input];
      const outT = tensors[op.output];
      const src = buffers[op.input];
      const dst = buffers[op.output];
      switch (op.kind) {
        case 'fullyConnected':
          fullyConnectedInt8(op, src, inT.quant.zeroPoint, dst, outT.quant.zeroPoint);
          break;
        case 'conv2d':
          conv2dInt8(op, src, inT.shape, inT.quant.zeroPoint, dst, outT.shape, outT.quant.zeroPoint);
          break;
        case 'maxPool2d':
        case 'averagePool2d':
          pool2dInt8(op, src, inT.shape, dst, outT.shape);
          break;
        case 'reshape':
          dst.set(src);
          break;
      }
    }
    return buffers[this.graph.output];
  }
}
