import { ProtoError } from '../errors.js';

/**
 * A TensorFlow.js layers topology (`modelTopology` of `model.json`, as the hub stores it per version) flattened into
 * the sequential operator graph a TFLite converter would emit for it, with every shape resolved (batch 1).
 * Only what the resource model needs: shapes, parameter counts, multiply-accumulates, kernel geometry for scratch.
 */

/** A TFLite builtin operator a layer lowers to. Fused ReLU/ReLU6 are an attribute of the op, not an op. */
export type McuOpKind = 'FULLY_CONNECTED' | 'CONV_2D' | 'MAX_POOL_2D' | 'AVERAGE_POOL_2D' | 'RESHAPE' | 'RELU' | 'RELU6' | 'SOFTMAX';

export interface McuOp {
  kind: McuOpKind;
  /** Name of the layer the op comes from. */
  layer: string;
  /** Shape of the op's input activation, without the batch dimension. */
  inputShape: number[];
  outputShape: number[];
  /** Weight elements (kernel), 0 for ops without weights. */
  weightCount: number;
  /** Bias elements, 0 when the layer has `use_bias: false` or no weights. */
  biasCount: number;
  /** Output channels of a weighted op: the axis per-channel quantization runs along [TFLite int8 spec]. */
  outputChannels: number;
  /** Multiply-accumulates for one example. Pooling, reshape and activations count 0 (see the doc). */
  macs: number;
  /** Conv2D only: kernel height × width × input channels, which sizes CMSIS-NN's im2col scratch. */
  kernelVolume: number;
}

export interface McuGraph {
  inputShape: number[];
  ops: McuOp[];
}

type LayerConfig = Record<string, unknown>;
interface LayerJson { class_name?: unknown; config?: unknown; inbound_nodes?: unknown }

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function bad(detail: string): ProtoError {
  return new ProtoError('PROTO_ERR_BAD_TOPOLOGY', detail);
}

function positiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw bad(`${what} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

/** A Keras "int or pair" argument (`kernel_size`, `strides`, `pool_size`) as [height, width]. */
function pair(value: unknown, what: string, fallback?: [number, number]): [number, number] {
  if (value === undefined || value === null) {
    if (fallback) return fallback;
    throw bad(`${what} is missing`);
  }
  if (typeof value === 'number') return [positiveInt(value, what), positiveInt(value, what)];
  if (Array.isArray(value) && value.length === 2) return [positiveInt(value[0], what), positiveInt(value[1], what)];
  throw bad(`${what} must be an integer or a pair, got ${JSON.stringify(value)}`);
}

/** Output extent of a window op along one axis, as Keras / TFLite compute it. */
function windowOut(extent: number, window: number, stride: number, padding: unknown, what: string): number {
  if (padding === 'same') return Math.ceil(extent / stride);
  if (padding === undefined || padding === 'valid') {
    if (extent < window) throw bad(`${what}: window ${window} is larger than the input extent ${extent}`);
    return Math.floor((extent - window) / stride) + 1;
  }
  throw bad(`${what}: padding ${JSON.stringify(padding)} is not "valid" or "same"`);
}

function batchInputShape(config: LayerConfig): number[] | undefined {
  const batch = config.batch_input_shape ?? config.batchInputShape;
  if (Array.isArray(batch)) return batch.slice(1).map((d, i) => positiveInt(d, `input dimension ${i + 1}`));
  const input = config.input_shape ?? config.inputShape;
  if (Array.isArray(input)) return input.map((d, i) => positiveInt(d, `input dimension ${i + 1}`));
  return undefined;
}

/** An activation name lowered as TFLite does: ReLU/ReLU6 fuse into a preceding weighted op, softmax is its own op. */
function activationOps(activation: unknown, layer: string, shape: number[], fusable: boolean): McuOp[] {
  const op = (kind: McuOpKind): McuOp => ({ kind, layer, inputShape: shape, outputShape: shape, weightCount: 0, biasCount: 0, outputChannels: 0, macs: 0, kernelVolume: 0 });
  switch (activation ?? 'linear') {
    case 'linear': return [];
    case 'relu': return fusable ? [] : [op('RELU')];
    case 'relu6': return fusable ? [] : [op('RELU6')];
    case 'softmax': return [op('SOFTMAX')];
    default: throw new ProtoError('PROTO_ERR_UNSUPPORTED_LAYER', `${layer}: activation ${JSON.stringify(activation)} has no integer-only kernel here`);
  }
}

function lowerLayer(className: string, config: LayerConfig, layer: string, input: number[]): McuOp[] {
  const none = { weightCount: 0, biasCount: 0, outputChannels: 0, macs: 0, kernelVolume: 0 };
  const useBias = config.use_bias !== false;
  switch (className) {
    case 'InputLayer':
    case 'Dropout': // identity at inference; converters drop it
      return [];
    case 'Dense': {
      const units = positiveInt(config.units, `${layer}.units`);
      // tfjs Dense applies to the last axis; the TFLite converter keeps leading axes as extra rows.
      const inFeatures = input[input.length - 1] ?? 1;
      const rows = size(input) / inFeatures;
      const out = [...input.slice(0, -1), units];
      const dense: McuOp = { kind: 'FULLY_CONNECTED', layer, inputShape: input, outputShape: out, weightCount: inFeatures * units,
        biasCount: useBias ? units : 0, outputChannels: units, macs: rows * inFeatures * units, kernelVolume: 0 };
      return [dense, ...activationOps(config.activation, layer, out, true)];
    }
    case 'Conv2D': {
      if (config.data_format !== undefined && config.data_format !== 'channels_last') throw new ProtoError('PROTO_ERR_UNSUPPORTED_LAYER', `${layer}: data_format ${JSON.stringify(config.data_format)} (TFLite is NHWC)`);
      if (input.length !== 3) throw bad(`${layer}: Conv2D needs a [height, width, channels] input, got [${input.join(', ')}]`);
      const [kh, kw] = pair(config.kernel_size, `${layer}.kernel_size`);
      const [sh, sw] = pair(config.strides, `${layer}.strides`, [1, 1]);
      const [dh, dw] = pair(config.dilation_rate, `${layer}.dilation_rate`, [1, 1]);
      const filters = positiveInt(config.filters, `${layer}.filters`);
      const [h, w, cin] = input as [number, number, number];
      // A dilated kernel covers (k − 1)·d + 1 input pixels.
      const oh = windowOut(h, (kh - 1) * dh + 1, sh, config.padding, layer);
      const ow = windowOut(w, (kw - 1) * dw + 1, sw, config.padding, layer);
      const out = [oh, ow, filters];
      const conv: McuOp = { kind: 'CONV_2D', layer, inputShape: input, outputShape: out, weightCount: kh * kw * cin * filters,
        biasCount: useBias ? filters : 0, outputChannels: filters, macs: oh * ow * filters * kh * kw * cin, kernelVolume: kh * kw * cin };
      return [conv, ...activationOps(config.activation, layer, out, true)];
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      if (input.length !== 3) throw bad(`${layer}: ${className} needs a [height, width, channels] input, got [${input.join(', ')}]`);
      const [ph, pw] = pair(config.pool_size, `${layer}.pool_size`, [2, 2]);
      const [sh, sw] = pair(config.strides, `${layer}.strides`, [ph, pw]);
      const [h, w, c] = input as [number, number, number];
      const out = [windowOut(h, ph, sh, config.padding, layer), windowOut(w, pw, sw, config.padding, layer), c];
      return [{ kind: className === 'MaxPooling2D' ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D', layer, inputShape: input, outputShape: out, ...none }];
    }
    case 'Flatten':
      return [{ kind: 'RESHAPE', layer, inputShape: input, outputShape: [size(input)], ...none }];
    case 'Reshape': {
      const target = config.target_shape ?? config.targetShape;
      if (!Array.isArray(target)) throw bad(`${layer}.target_shape is missing`);
      const known = target.filter((d) => d !== -1).map((d) => positiveInt(d, `${layer}.target_shape`));
      const unknown = target.length - known.length;
      if (unknown > 1) throw bad(`${layer}.target_shape has more than one -1`);
      const fill = size(input) / size(known);
      if (!Number.isInteger(fill) || (unknown === 0 && fill !== 1)) throw bad(`${layer}: cannot reshape [${input.join(', ')}] to [${target.join(', ')}]`);
      const out = target.map((d) => (d === -1 ? fill : (d as number)));
      return [{ kind: 'RESHAPE', layer, inputShape: input, outputShape: out, ...none }];
    }
    case 'Activation':
    case 'ReLU': {
      const activation = className === 'ReLU' ? (config.max_value === 6 ? 'relu6' : 'relu') : config.activation;
      return activationOps(activation, layer, input, false);
    }
    case 'Softmax':
      return activationOps('softmax', layer, input, false);
    default:
      throw new ProtoError('PROTO_ERR_UNSUPPORTED_LAYER', `${layer}: layer type ${JSON.stringify(className)} is not in the MCU resource model (supported: InputLayer, Dense, Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Reshape, Activation, ReLU, Softmax, Dropout)`);
  }
}

/** The layers of a Sequential model, or of a functional model whose layers form one chain. */
function layerList(topology: unknown): LayerJson[] {
  if (typeof topology !== 'object' || topology === null) throw bad('topology is not an object');
  const root = topology as { class_name?: unknown; config?: unknown };
  const config = root.config as { layers?: unknown } | unknown[] | undefined;
  const layers = Array.isArray(config) ? config : config?.layers; // very old Keras stored Sequential layers bare
  if (!Array.isArray(layers) || layers.length === 0) throw bad('topology has no layers');
  if (root.class_name !== 'Sequential') {
    // A functional graph is accepted only when it is a chain: each layer has at most one inbound layer.
    for (const layer of layers as LayerJson[]) {
      const nodes = layer.inbound_nodes;
      const inbound = Array.isArray(nodes) && Array.isArray(nodes[0]) ? nodes[0].length : 0;
      if (inbound > 1) throw new ProtoError('PROTO_ERR_UNSUPPORTED_LAYER', 'a layer with several inputs (branching graph) is not in the MCU resource model');
    }
  }
  return layers as LayerJson[];
}

/**
 * Resolves a layers topology (object or its JSON text) into the sequential operator graph, batch 1.
 * @throws ProtoError PROTO_ERR_UNSUPPORTED_LAYER for a layer type or activation the model does not know,
 *   PROTO_ERR_BAD_TOPOLOGY for a malformed topology or inconsistent shapes.
 */
export function parseLayerGraph(topology: unknown): McuGraph {
  const parsed = typeof topology === 'string' ? parseJson(topology) : topology;
  const layers = layerList(parsed);
  let shape: number[] | undefined;
  let inputShape: number[] | undefined;
  const ops: McuOp[] = [];
  layers.forEach((layer, index) => {
    const className = typeof layer.class_name === 'string' ? layer.class_name : '';
    const config = (typeof layer.config === 'object' && layer.config !== null ? layer.config : {}) as LayerConfig;
    const name = typeof config.name === 'string' ? config.name : `layer${index}`;
    if (shape === undefined) {
      shape = batchInputShape(config);
      if (!shape) throw bad(`${name}: the first layer declares no input shape`);
      inputShape = shape;
    }
    for (const op of lowerLayer(className, config, name, shape)) {
      ops.push(op);
      shape = op.outputShape;
    }
  });
  if (!inputShape || ops.length === 0) throw bad('topology has no operators');
  return { inputShape, ops };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ProtoError('PROTO_ERR_BAD_TOPOLOGY', 'topology is not valid JSON', { cause: error });
  }
}

export function elementCount(shape: readonly number[]): number {
  return size(shape);
}
