import { describe, expect, it } from 'vitest';
import {
  CORTEX_M4_INT8_CYCLES_PER_MAC, CORTEX_M7_INT8_CYCLES_PER_MAC, MCU_PROFILES, ProtoError, checkFit, estimateArena,
  estimateFlash, estimateMcuFit, mcuFitTable, parseLayerGraph, planGreedy,
} from '../../src/index.js';
import { MNIST_2NN, TINY_CNN, mlpTopology } from './fixtures.js';

const m4 = MCU_PROFILES['mcu-m4'];

function thrown(fn: () => unknown): ProtoError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtoError);
    return error as ProtoError;
  }
  throw new Error('expected a ProtoError');
}

describe('layer graph', () => {
  it('resolves the 2NN: three fully connected ops, softmax as its own op, 199,210 parameters', () => {
    const graph = parseLayerGraph(JSON.stringify(MNIST_2NN));
    expect(graph.inputShape).toEqual([784]);
    expect(graph.ops.map((op) => op.kind)).toEqual(['FULLY_CONNECTED', 'FULLY_CONNECTED', 'FULLY_CONNECTED', 'SOFTMAX']);
    // 784·200 + 200 + 200·200 + 200 + 200·10 + 10
    expect(graph.ops.reduce((s, op) => s + op.weightCount + op.biasCount, 0)).toBe(199_210);
    // MACs = weights: 156,800 + 40,000 + 2,000
    expect(graph.ops.reduce((s, op) => s + op.macs, 0)).toBe(198_800);
  });

  it('resolves the tiny CNN shapes, 14,410 parameters and 201,184 MACs', () => {
    const graph = parseLayerGraph(TINY_CNN);
    expect(graph.ops.map((op) => [op.kind, op.outputShape])).toEqual([
      ['CONV_2D', [26, 26, 8]], // valid 3×3: 28 − 3 + 1
      ['MAX_POOL_2D', [13, 13, 8]],
      ['CONV_2D', [11, 11, 16]],
      ['MAX_POOL_2D', [5, 5, 16]], // floor((11 − 2) / 2) + 1
      ['RESHAPE', [400]],
      ['FULLY_CONNECTED', [32]],
      ['FULLY_CONNECTED', [10]],
      ['SOFTMAX', [10]],
    ]);
    // (72 + 8) + (1,152 + 16) + (12,800 + 32) + (320 + 10)
    expect(graph.ops.reduce((s, op) => s + op.weightCount + op.biasCount, 0)).toBe(14_410);
    // conv1 26·26·8·(3·3·1) = 48,672; conv2 11·11·16·(3·3·8) = 139,392; dense 400·32 = 12,800; 32·10 = 320
    expect(graph.ops.map((op) => op.macs)).toEqual([48_672, 0, 139_392, 0, 0, 12_800, 320, 0]);
  });

  it('computes "same" padding, strides and average pooling', () => {
    const graph = parseLayerGraph({ class_name: 'Sequential', config: { layers: [
      { class_name: 'Conv2D', config: { name: 'c', filters: 4, kernel_size: 3, strides: 2, padding: 'same', batch_input_shape: [null, 9, 9, 2] } },
      { class_name: 'AveragePooling2D', config: { name: 'p', pool_size: [2, 2], padding: 'same' } },
      { class_name: 'Activation', config: { name: 'a', activation: 'relu6' } },
    ] } });
    // same: ceil(9 / 2) = 5; pool same stride 2: ceil(5 / 2) = 3; relu6 as a layer is its own op
    expect(graph.ops.map((op) => [op.kind, op.outputShape])).toEqual([['CONV_2D', [5, 5, 4]], ['AVERAGE_POOL_2D', [3, 3, 4]], ['RELU6', [3, 3, 4]]]);
    expect(graph.ops[0]!.macs).toBe(5 * 5 * 4 * 3 * 3 * 2);
  });

  it('refuses an unknown layer type and an unknown activation with PROTO_ERR_UNSUPPORTED_LAYER', () => {
    const lstm = { class_name: 'Sequential', config: { layers: [{ class_name: 'LSTM', config: { name: 'rnn', units: 8, batch_input_shape: [null, 4, 4] } }] } };
    const error = thrown(() => parseLayerGraph(lstm));
    expect(error.code).toBe('PROTO_ERR_UNSUPPORTED_LAYER');
    expect(error.message).toContain('"LSTM"');
    const gelu = { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { name: 'd', units: 2, activation: 'gelu', batch_input_shape: [null, 3] } }] } };
    expect(thrown(() => parseLayerGraph(gelu)).code).toBe('PROTO_ERR_UNSUPPORTED_LAYER');
  });

  it('refuses malformed topologies with PROTO_ERR_BAD_TOPOLOGY', () => {
    expect(thrown(() => parseLayerGraph('{not json')).code).toBe('PROTO_ERR_BAD_TOPOLOGY');
    expect(thrown(() => parseLayerGraph({ class_name: 'Sequential', config: { layers: [] } })).code).toBe('PROTO_ERR_BAD_TOPOLOGY');
    expect(thrown(() => parseLayerGraph({ class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { units: 3 } }] } })).code).toBe('PROTO_ERR_BAD_TOPOLOGY');
    // a 5×5 kernel on a 3×3 input, valid padding
    expect(thrown(() => parseLayerGraph({ class_name: 'Sequential', config: { layers: [
      { class_name: 'Conv2D', config: { name: 'c', filters: 1, kernel_size: 5, batch_input_shape: [null, 3, 3, 1] } },
    ] } })).code).toBe('PROTO_ERR_BAD_TOPOLOGY');
  });
});

describe('greedy memory planner', () => {
  it('places the largest buffer first and reuses space of buffers that are no longer alive', () => {
    // sizes 100 [0,1], 60 [1,2], 100 [2,3]: the two 100s never overlap and share offset 0; 60 sits above them.
    const plan = planGreedy([{ sizeBytes: 100, firstUse: 0, lastUse: 1 }, { sizeBytes: 60, firstUse: 1, lastUse: 2 }, { sizeBytes: 100, firstUse: 2, lastUse: 3 }]);
    expect(plan.offsets).toEqual([0, 112, 0]); // 100 aligned to 16 = 112
    expect(plan.arenaBytes).toBe(112 + 64);
  });
});

describe('flash and arena', () => {
  it('2NN int8: 213,412 bytes of flash, 8,368 bytes of arena', () => {
    const flash = estimateFlash(parseLayerGraph(MNIST_2NN), 'int8');
    expect(flash).toEqual({
      weightBytes: 198_800, // 1 byte per weight
      biasBytes: 410 * 4, // int32 biases: 200 + 200 + 10
      // weight and bias per channel (410 channels × 2 tensors × (4-byte scale + 8-byte zero point)) = 9,840,
      // plus per-tensor params of the input and the 4 op outputs: 5 × 12 = 60
      quantParamBytes: 9_840 + 60,
      graphBytes: 1024 + 4 * 512, // fixed + 4 ops (3 FULLY_CONNECTED + SOFTMAX)
      totalBytes: 198_800 + 1_640 + 9_900 + 3_072,
    });
    expect(flash.totalBytes).toBe(213_412);
    // Activations 784 [op 0], 200→208 [0,1], 200→208 [1,2], 10→16 [2,3], 10→16 [3]: input at 0, fc1 at 784,
    // fc2 back at 0, fc3 at 208, softmax at 0 → peak 784 + 208 = 992.
    // Persistent: 4,096 runtime + 8 bytes of multiplier and shift × 410 channels = 7,376.
    expect(estimateArena(parseLayerGraph(MNIST_2NN), 'int8')).toEqual({ plannedBytes: 992, persistentBytes: 4096 + 3_280, totalBytes: 8_368 });
  });

  it('tiny CNN int8: 21,420 bytes of flash, 11,392 bytes of arena', () => {
    const graph = parseLayerGraph(TINY_CNN);
    // weights 72 + 1,152 + 12,800 + 320 = 14,344; biases 66 × 4 = 264; quant 66 × 2 × 12 = 1,584 + (1 + 8) × 12 = 108;
    // graph 1,024 + 8 ops × 512 = 5,120
    expect(estimateFlash(graph, 'int8').totalBytes).toBe(14_344 + 264 + 1_692 + 5_120);
    // Peak at pool1: conv1 output 26·26·8 = 5,408 + pool1 output 13·13·8 = 1,352 (aligned to 16: 1,360) → 6,768.
    // conv1's im2col scratch (2·9·2 = 36 → 48 bytes) sits above the live input (5,408 + 784 + 48 = 6,240 < 6,768).
    // Persistent 4,096 + 8 × 66 channels = 4,624.
    expect(estimateArena(graph, 'int8')).toEqual({ plannedBytes: 6_768, persistentBytes: 4_624, totalBytes: 11_392 });
  });

  it('fp32 and fp16: 4 or 2 bytes per weight; fp16 holds its dequantized float weights in the arena', () => {
    const graph = parseLayerGraph(MNIST_2NN);
    expect(estimateFlash(graph, 'fp32').totalBytes).toBe(198_800 * 4 + 410 * 4 + 1024 + 4 * 512);
    // fp16: 6 DEQUANTIZE ops (3 weights + 3 biases) join the 4 ops in the graph
    expect(estimateFlash(graph, 'fp16').totalBytes).toBe(198_800 * 2 + 410 * 2 + 1024 + 10 * 512);
    // fp32 activations ×4: input 3,136 [0], fc1 800 [0,1] → 3,136 + 800 = 3,936
    expect(estimateArena(graph, 'fp32').totalBytes).toBe(3_936 + 4096);
    // fp16 at op 0: W1 627,200 + W2 160,000 + W3 8,000 + input 3,136 + fc1 800 + b1 800 + b2 800 + b3 48 = 800,784
    expect(estimateArena(graph, 'fp16').totalBytes).toBe(800_784 + 4096);
  });
});

describe('fit check', () => {
  it('the 2NN in int8 fits the mcu-m4 and takes about 3 ms', () => {
    const fit = checkFit(MNIST_2NN, m4, 'int8');
    expect(fit).toMatchObject({ fits: true, flashBytes: 213_412, arenaBytes: 8_368, macs: 198_800, shortfalls: [] });
    expect(CORTEX_M7_INT8_CYCLES_PER_MAC).toBe(1.74); // 216e6 × 0.0991 s / 12,298,240 MACs
    expect(CORTEX_M4_INT8_CYCLES_PER_MAC).toBe(2.55); // 1.74 × 5.01 / 3.42
    expect(fit.estLatencyMs).toBeCloseTo((198_800 * 2.55) / 168_000, 9); // ≈ 3.02 ms at 168 MHz
  });

  it('refuses a larger MLP on flash with both numbers', () => {
    // 784-1000-1000-10 int8: weights 1,794,000 + biases 2,010 × 4 + quant 2,010 × 24 + 60 + graph 3,072 = 1,853,412
    const error = thrown(() => checkFit(mlpTopology([1000, 1000]), m4, 'int8'));
    expect(error.code).toBe('PROTO_ERR_DOES_NOT_FIT');
    expect(error.message).toBe('model does not fit the device profile: int8 model on mcu-m4: '
      + 'needs 1810.0 KiB (1853412 bytes) flash, profile has 1024 KiB (1048576 bytes)');
  });

  it('refuses a model whose arena exceeds RAM with both numbers', () => {
    const big = { class_name: 'Sequential', config: { layers: [
      { class_name: 'Conv2D', config: { name: 'c', filters: 32, kernel_size: 3, padding: 'same', activation: 'relu', batch_input_shape: [null, 128, 128, 3] } },
    ] } };
    // output 128·128·32 = 524,288 at 0; input 49,152 above it; scratch 2·27·2 = 108 → 112 → 573,552;
    // persistent 4,096 + 8 × 32 = 4,352 → 577,904
    const error = thrown(() => checkFit(big, m4, 'int8'));
    expect(error.message).toBe('model does not fit the device profile: int8 model on mcu-m4: '
      + 'needs 564.4 KiB (577904 bytes) arena (RAM), profile has 256 KiB (262144 bytes)');
    expect(checkFit(big, MCU_PROFILES['mcu-m7'], 'int8').fits).toBe(true);
  });

  it('the 2NN in fp16 does not fit the mcu-m4 arena; the table covers every format and profile', () => {
    expect(estimateMcuFit(MNIST_2NN, m4, 'fp16').shortfalls).toEqual(['needs 786.0 KiB (804880 bytes) arena (RAM), profile has 256 KiB (262144 bytes)']);
    const table = mcuFitTable(MNIST_2NN);
    expect(table.map((row) => `${row.encoding}/${row.profile}:${row.fits}`)).toEqual([
      'fp32/mcu-m4:true', 'fp32/mcu-m7:true', 'fp16/mcu-m4:false', 'fp16/mcu-m7:true', 'int8/mcu-m4:true', 'int8/mcu-m7:true',
    ]);
  });
});
