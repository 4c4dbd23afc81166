import { describe, expect, it } from 'vitest';
import {
  Int8Interpreter, decodeTfliteInt8, describeTflite, encodeTfliteFloat, encodeTfliteInt8, type Int8Graph, type TfliteSummary,
} from '../../src/index.js';
import { ByteBuffer } from 'flatbuffers';
import { BuiltinOperator, Model } from '../../generated/tflite/tflite-schema.js';
import { readTflite } from '../../src/tflite/read-tflite.js';
import { int32LeBytes } from '../../src/tflite/emit-ops.js';
import { TfliteWriter } from '../../src/tflite/tflite-writer.js';
import { mnist2nn, randomCodes, smallModel, tinyCnn } from './tflite-models.js';

/** Checks every tensor the file declares against the graph it was written from. */
function expectDescribes(summary: TfliteSummary, graph: Int8Graph): void {
  expect(summary.version).toBe(3);
  expect(summary.inputs).toEqual([graph.input]);
  expect(summary.outputs).toEqual([graph.output]);
  // Activations: int8, batch 1 added, per-tensor scale and zero point.
  graph.tensors.forEach((t, i) => {
    expect(summary.tensors[i]).toEqual({
      name: t.name, shape: [1, ...t.shape], type: 'INT8', scales: [t.quant.scale], zeroPoints: [t.quant.zeroPoint], quantizedDimension: 0,
    });
  });
  const byName = new Map(summary.tensors.map((t) => [t.name, t]));
  for (const op of graph.ops) {
    if (op.kind !== 'fullyConnected' && op.kind !== 'conv2d') continue;
    const name = graph.tensors[op.output].name;
    const channels = op.bias.length;
    // Weights int8 per output channel along axis 0, zero points 0 (TFLite int8 spec).
    expect(byName.get(`${name}/kernel`)).toEqual({
      name: `${name}/kernel`, shape: op.weightShape, type: 'INT8', scales: Array.from(op.weightScales),
      zeroPoints: new Array(channels).fill(0), quantizedDimension: 0,
    });
    // Biases int32 at scale inputScale × weightScale[c] (as float32, the product TFLite checks).
    const inputScale = graph.tensors[op.input].quant.scale;
    expect(byName.get(`${name}/bias`)).toEqual({
      name: `${name}/bias`, shape: [channels], type: 'INT32', scales: Array.from(op.weightScales, (s) => Math.fround(inputScale * s)),
      zeroPoints: new Array(channels).fill(0), quantizedDimension: 0,
    });
  }
}

function expectBitIdentical(graph: Int8Graph, decoded: Int8Graph): void {
  const ours = new Int8Interpreter(graph);
  const theirs = new Int8Interpreter(decoded);
  for (const codes of randomCodes(graph, 8, 3)) expect(Array.from(theirs.invoke(codes))).toEqual(Array.from(ours.invoke(codes)));
}

describe('.tflite int8 export and import', () => {
  it('mnist-2nn: FULLY_CONNECTED ×3 with per-channel weights; decodes to the same graph', () => {
    const { graph } = mnist2nn();
    const bytes = encodeTfliteInt8(graph, { description: 'mnist-2nn v1' });
    expect(String.fromCharCode(...bytes.subarray(4, 8))).toBe('TFL3');
    const summary = describeTflite(bytes);
    expect(summary.description).toBe('mnist-2nn v1');
    expect(summary.operators).toEqual(['FULLY_CONNECTED', 'FULLY_CONNECTED', 'FULLY_CONNECTED']);
    expect(summary.tensors.filter((t) => t.name.endsWith('/kernel')).map((t) => t.shape)).toEqual([[200, 784], [200, 200], [10, 200]]);
    expectDescribes(summary, graph);
    const decoded = decodeTfliteInt8(bytes);
    expect(decoded).toEqual(graph);
    expectBitIdentical(graph, decoded);
  });

  it('tiny-cnn: CONV_2D, MAX_POOL_2D, RESHAPE, FULLY_CONNECTED with NHWC shapes and OHWI filters', () => {
    const { graph } = tinyCnn();
    const bytes = encodeTfliteInt8(graph);
    const summary = describeTflite(bytes);
    expect(summary.operators).toEqual(['CONV_2D', 'MAX_POOL_2D', 'CONV_2D', 'MAX_POOL_2D', 'RESHAPE', 'FULLY_CONNECTED', 'FULLY_CONNECTED']);
    expect(graph.tensors.map((_, i) => summary.tensors[i].shape)).toEqual(
      [[1, 28, 28, 1], [1, 26, 26, 8], [1, 13, 13, 8], [1, 11, 11, 16], [1, 5, 5, 16], [1, 400], [1, 32], [1, 10]]);
    expect(summary.tensors.find((t) => t.name === 'conv2/kernel')?.shape).toEqual([16, 3, 3, 8]);
    // RESHAPE takes its new shape from its options: one input, no int32 shape tensor.
    expect(summary.tensors.find((t) => t.name === 'flatten/shape')).toBeUndefined();
    const reshape = readTflite(bytes).operators[4];
    expect(reshape.inputs).toEqual([4]);
    expect(reshape.options).toEqual({ type: 'reshape', newShape: [1, 400] });
    expectDescribes(summary, graph);
    const decoded = decodeTfliteInt8(bytes);
    expect(decoded).toEqual(graph);
    expectBitIdentical(graph, decoded);
  });

  it("'same' strided conv with ReLU6 and average pooling survive the round trip", () => {
    const { graph } = smallModel();
    const bytes = encodeTfliteInt8(graph);
    expect(describeTflite(bytes).operators).toEqual(['CONV_2D', 'AVERAGE_POOL_2D', 'RESHAPE', 'FULLY_CONNECTED']);
    const decoded = decodeTfliteInt8(bytes);
    expect(decoded).toEqual(graph);
    expectBitIdentical(graph, decoded);
  });

  it('constant buffers start 16-byte aligned (schema force_align: 16), buffer 0 is the empty sentinel', () => {
    const bytes = encodeTfliteInt8(tinyCnn().graph);
    const view = readTflite(bytes);
    const constants = view.tensors.filter((t) => t.data);
    expect(constants).toHaveLength(8);
    for (const t of constants) expect((t.data!.byteOffset - bytes.byteOffset) % 16, t.name).toBe(0);
    expect(Model.getRootAsModel(new ByteBuffer(bytes)).buffers(0)!.dataLength()).toBe(0);
  });


  it('writes equal quantization parameters once: a layer shares its zero points, a pool its input parameters', () => {
    const { graph } = tinyCnn();
    const bytes = encodeTfliteInt8(graph);
    const subgraph = Model.getRootAsModel(new ByteBuffer(bytes)).subgraphs(0)!;
    const tensors = Array.from({ length: subgraph.tensorsLength() }, (_, i) => subgraph.tensors(i)!);
    const byName = new Map(tensors.map((t) => [t.name(), t]));
    const quantAt = (name: string): number => byName.get(name)!.quantization()!.bb_pos;
    // zero_point is field 3 of QuantizationParameters (vtable slot 10): where its vector starts.
    const zeroPointsAt = (name: string): number => {
      const q = byName.get(name)!.quantization()!;
      return q.bb!.__vector(q.bb_pos + q.bb!.__offset(q.bb_pos, 10));
    };
    for (const layer of ['conv1', 'conv2', 'dense1', 'output']) {
      expect(zeroPointsAt(`${layer}/kernel`), layer).toBe(zeroPointsAt(`${layer}/bias`));
      expect(quantAt(`${layer}/kernel`), layer).not.toBe(quantAt(`${layer}/bias`));
    }
    // Max pooling keeps its input's parameters (TFLite requires it), so both tensors point at one table.
    expect(graph.tensors[1].quant).toEqual(graph.tensors[2].quant);
    expect(quantAt('pool1')).toBe(quantAt('conv1'));
    expect(quantAt('conv1')).not.toBe(quantAt('input'));
    // Shared or not, every tensor still reads back its own full parameters (expectDescribes checks each value).
    expectDescribes(describeTflite(bytes), graph);
  });
  it('writes equal int vectors, options and strings once; strings take up the padding in front of constant buffers', () => {
    const { graph, model } = tinyCnn();
    const bytes = encodeTfliteInt8(graph);
    const subgraph = Model.getRootAsModel(new ByteBuffer(bytes)).subgraphs(0)!;
    const bb = subgraph.bb!;
    /** Where the vector, string or table that field `slot` of the table at `pos` points at starts. */
    const target = (pos: number, slot: number): number => bb.__indirect(pos + bb.__offset(pos, 4 + 2 * slot));
    const ops = Array.from({ length: subgraph.operatorsLength() }, (_, i) => subgraph.operators(i)!.bb_pos);
    const tensors = Array.from({ length: subgraph.tensorsLength() }, (_, i) => subgraph.tensors(i)!.bb_pos);
    // Operator fields: 1 inputs, 2 outputs, 4 builtin_options. Tensor fields: 0 shape, 3 name.
    expect(target(ops[1], 1)).toBe(target(ops[0], 2)); // pool1 reads the [1] conv1 writes: one vector
    expect(target(ops[4], 1)).toBe(target(ops[3], 2));
    expect(target(ops[2], 4)).toBe(target(ops[0], 4)); // two equal Conv2DOptions, one table
    expect(target(ops[3], 4)).toBe(target(ops[1], 4));
    expect(target(ops[5], 4)).not.toBe(target(ops[6], 4)); // ReLU and no activation differ
    expect(target(target(ops[4], 4), 0)).toBe(target(tensors[5], 0)); // new_shape [1, 400] is flatten's shape
    // Some names were written between constant buffers, where alignment padding would otherwise be.
    const view = readTflite(bytes);
    const data = view.tensors.filter((t) => t.data).map((t) => t.data!.byteOffset - bytes.byteOffset);
    const names = tensors.map((t) => target(t, 3));
    expect(names.filter((n) => n > Math.min(...data) && n < Math.max(...data)).length).toBeGreaterThan(0);
    // The goal on bytes: int8 at most 0.3 × the float file of the same model.
    expect(bytes.length).toBeLessThanOrEqual(0.3 * encodeTfliteFloat(model).length);
  });

  it("reads RESHAPE in both forms: the new shape as an int32 input tensor (as TensorFlow's converter writes it) or in the options", () => {
    const file = (shapeInput: number[] | null, newShape: number[]): Uint8Array => {
      const w = new TfliteWriter();
      const quant = { scales: [0.05], zeroPoints: [-3], quantizedDimension: 0 };
      const x = w.addTensor({ name: 'x', shape: [1, 2, 2, 3], type: 'INT8', quant });
      const y = w.addTensor({ name: 'y', shape: [1, 12], type: 'INT8', quant });
      const inputs = [x];
      if (shapeInput) inputs.push(w.addTensor({ name: 'y/shape', shape: [shapeInput.length], type: 'INT32', data: int32LeBytes(shapeInput) }));
      w.addOperator({ code: BuiltinOperator.RESHAPE, version: 1, inputs, outputs: [y], options: { type: 'reshape', newShape } });
      return w.finish({ inputs: [x], outputs: [y], description: '' });
    };
    const reshape = [{ kind: 'reshape', input: 0, output: 1 }];
    expect(decodeTfliteInt8(file([1, 12], [1, 12])).ops).toEqual(reshape);
    expect(decodeTfliteInt8(file([1, -1], [])).ops).toEqual(reshape);
    expect(decodeTfliteInt8(file(null, [1, -1])).ops).toEqual(reshape);
    // The shape tensor wins over the options, as in TensorFlow Lite's kernel.
    expect(() => decodeTfliteInt8(file([1, 6], [1, 12]))).toThrow(/new shape \[1, 6\] for output \[1, 12\]/);
    expect(() => decodeTfliteInt8(file(null, [1, 6]))).toThrow(/new shape \[1, 6\] for output \[1, 12\]/);
  });

  it('decodes from any byte offset (a Node Buffer slice of a pooled allocation)', () => {
    const { graph } = smallModel();
    const bytes = encodeTfliteInt8(graph);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(decodeTfliteInt8(shifted.subarray(3))).toEqual(graph);
  });
});
