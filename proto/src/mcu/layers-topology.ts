import { ProtoError } from '../errors.js';
import { shapeSize } from '../weights.js';

/**
 * The one reader of a TensorFlow.js layers topology (`modelTopology` of `model.json`, as the hub stores it per
 * version): a chain of layers with their Keras configuration validated and every shape resolved (batch 1). The MCU
 * resource model (layer-graph.ts) lowers it to TFLite operators; the int8 path (int8/float-model-from-topology.ts)
 * turns it into a FloatModel. A layer kind is known here once, for both.
 */

/** Activation of a layer, by its Keras name. ReLU/ReLU6 fuse into a preceding weighted op; softmax is its own op. */
export type LayerActivation = 'linear' | 'relu' | 'relu6' | 'softmax';

/** Keras / TFLite window padding. */
export type WindowPadding = 'valid' | 'same';

interface LayerSpecBase {
  /** The Keras layer name (weights are named `${name}/kernel`, `${name}/bias`). */
  name: string;
  /** Shape of the layer's input activation, without the batch dimension. */
  inputShape: number[];
  outputShape: number[];
}

/** Keras Dense: applies to the last axis of its input. */
export interface DenseSpec extends LayerSpecBase {
  kind: 'dense';
  units: number;
  /** Size of the input's last axis. */
  inFeatures: number;
  useBias: boolean;
  activation: LayerActivation;
}

/** Keras Conv2D, channels last. */
export interface Conv2dSpec extends LayerSpecBase {
  kind: 'conv2d';
  filters: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padding: WindowPadding;
  useBias: boolean;
  activation: LayerActivation;
}

/** Keras MaxPooling2D / AveragePooling2D. */
export interface Pool2dSpec extends LayerSpecBase {
  kind: 'maxPool2d' | 'averagePool2d';
  poolH: number;
  poolW: number;
  strideH: number;
  strideW: number;
  padding: WindowPadding;
}

/** Keras Flatten or Reshape: row-major data unchanged. */
export interface ReshapeSpec extends LayerSpecBase {
  kind: 'reshape';
}

/** Keras Activation, ReLU or Softmax layer: an activation on its own. */
export interface ActivationSpec extends LayerSpecBase {
  kind: 'activation';
  activation: LayerActivation;
}

export type LayerSpec = DenseSpec | Conv2dSpec | Pool2dSpec | ReshapeSpec | ActivationSpec;

export interface LayersTopology {
  inputShape: number[];
  /** The layers in order; InputLayer and Dropout (identity at inference) are left out. */
  layers: LayerSpec[];
}

type LayerConfig = Record<string, unknown>;
interface LayerJson { class_name?: unknown; config?: unknown; inbound_nodes?: unknown }

export const SUPPORTED_LAYER_TYPES = [
  'InputLayer', 'Dense', 'Conv2D', 'MaxPooling2D', 'AveragePooling2D', 'Flatten', 'Reshape', 'Activation', 'ReLU', 'Softmax', 'Dropout',
] as const;

function bad(detail: string): ProtoError {
  return new ProtoError('PROTO_ERR_BAD_TOPOLOGY', detail);
}

function unsupported(detail: string): ProtoError {
  return new ProtoError('PROTO_ERR_UNSUPPORTED_LAYER', detail);
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

function paddingOf(value: unknown, layer: string): WindowPadding {
  if (value === undefined || value === 'valid') return 'valid';
  if (value === 'same') return 'same';
  throw bad(`${layer}: padding ${JSON.stringify(value)} is not "valid" or "same"`);
}

/** Output extent of a window op along one axis, as Keras / TFLite compute it. */
function windowOut(extent: number, window: number, stride: number, padding: WindowPadding, what: string): number {
  if (padding === 'same') return Math.ceil(extent / stride);
  if (extent < window) throw bad(`${what}: window ${window} is larger than the input extent ${extent}`);
  return Math.floor((extent - window) / stride) + 1;
}

function activationOf(value: unknown, layer: string): LayerActivation {
  const name = value ?? 'linear';
  if (name === 'linear' || name === 'relu' || name === 'relu6' || name === 'softmax') return name;
  throw unsupported(`${layer}: activation ${JSON.stringify(value)} has no integer-only kernel here`);
}

/** Keras ReLU(max_value, negative_slope, threshold): plain ReLU and ReLU6 only. */
function reluLayerActivation(config: LayerConfig, layer: string): LayerActivation {
  const maxValue = config.max_value ?? config.maxValue ?? null;
  const slope = config.negative_slope ?? config.negativeSlope ?? 0;
  const threshold = config.threshold ?? 0;
  if (slope !== 0 || threshold !== 0 || (maxValue !== null && maxValue !== 6)) {
    throw unsupported(`${layer}: ReLU(max_value ${JSON.stringify(maxValue)}, negative_slope ${JSON.stringify(slope)}, threshold ${JSON.stringify(threshold)}) is neither ReLU nor ReLU6`);
  }
  return maxValue === 6 ? 'relu6' : 'relu';
}

function batchInputShape(config: LayerConfig): number[] | undefined {
  const batch = config.batch_input_shape ?? config.batchInputShape;
  if (Array.isArray(batch)) return batch.slice(1).map((d, i) => positiveInt(d, `input dimension ${i + 1}`));
  const input = config.input_shape ?? config.inputShape;
  if (Array.isArray(input)) return input.map((d, i) => positiveInt(d, `input dimension ${i + 1}`));
  return undefined;
}

function reshapeTarget(config: LayerConfig, layer: string, input: number[]): number[] {
  const target = config.target_shape ?? config.targetShape;
  if (!Array.isArray(target)) throw bad(`${layer}.target_shape is missing`);
  const known = target.filter((d) => d !== -1).map((d) => positiveInt(d, `${layer}.target_shape`));
  const unknown = target.length - known.length;
  if (unknown > 1) throw bad(`${layer}.target_shape has more than one -1`);
  const fill = shapeSize(input) / shapeSize(known);
  if (!Number.isInteger(fill) || (unknown === 0 && fill !== 1)) throw bad(`${layer}: cannot reshape [${input.join(', ')}] to [${target.join(', ')}]`);
  return target.map((d) => (d === -1 ? fill : (d as number)));
}

/** One Keras layer as a spec, or undefined for a layer that is the identity at inference. */
function readLayer(className: string, config: LayerConfig, name: string, input: number[]): LayerSpec | undefined {
  const io = { name, inputShape: input };
  const useBias = config.use_bias !== false;
  switch (className) {
    case 'InputLayer':
    case 'Dropout': // identity at inference; converters drop it
      return undefined;
    case 'Dense': {
      const units = positiveInt(config.units, `${name}.units`);
      // tfjs Dense applies to the last axis; the TFLite converter keeps leading axes as extra rows.
      const inFeatures = input[input.length - 1] ?? 1;
      return { kind: 'dense', ...io, outputShape: [...input.slice(0, -1), units], units, inFeatures, useBias, activation: activationOf(config.activation, name) };
    }
    case 'Conv2D': {
      if (config.data_format !== undefined && config.data_format !== 'channels_last') throw unsupported(`${name}: data_format ${JSON.stringify(config.data_format)} (TFLite is NHWC)`);
      if (input.length !== 3) throw bad(`${name}: Conv2D needs a [height, width, channels] input, got [${input.join(', ')}]`);
      const [kernelH, kernelW] = pair(config.kernel_size, `${name}.kernel_size`);
      const [strideH, strideW] = pair(config.strides, `${name}.strides`, [1, 1]);
      const [dilationH, dilationW] = pair(config.dilation_rate, `${name}.dilation_rate`, [1, 1]);
      const filters = positiveInt(config.filters, `${name}.filters`);
      const padding = paddingOf(config.padding, name);
      // A dilated kernel covers (k − 1)·d + 1 input pixels.
      const oh = windowOut(input[0], (kernelH - 1) * dilationH + 1, strideH, padding, name);
      const ow = windowOut(input[1], (kernelW - 1) * dilationW + 1, strideW, padding, name);
      return {
        kind: 'conv2d', ...io, outputShape: [oh, ow, filters], filters, kernelH, kernelW, strideH, strideW, dilationH, dilationW,
        padding, useBias, activation: activationOf(config.activation, name),
      };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      if (input.length !== 3) throw bad(`${name}: ${className} needs a [height, width, channels] input, got [${input.join(', ')}]`);
      const [poolH, poolW] = pair(config.pool_size, `${name}.pool_size`, [2, 2]);
      const [strideH, strideW] = pair(config.strides, `${name}.strides`, [poolH, poolW]);
      const padding = paddingOf(config.padding, name);
      const outputShape = [windowOut(input[0], poolH, strideH, padding, name), windowOut(input[1], poolW, strideW, padding, name), input[2]];
      return { kind: className === 'MaxPooling2D' ? 'maxPool2d' : 'averagePool2d', ...io, outputShape, poolH, poolW, strideH, strideW, padding };
    }
    case 'Flatten':
      return { kind: 'reshape', ...io, outputShape: [shapeSize(input)] };
    case 'Reshape':
      return { kind: 'reshape', ...io, outputShape: reshapeTarget(config, name, input) };
    case 'Activation':
      return { kind: 'activation', ...io, outputShape: input, activation: activationOf(config.activation, name) };
    case 'ReLU':
      return { kind: 'activation', ...io, outputShape: input, activation: reluLayerActivation(config, name) };
    case 'Softmax':
      return { kind: 'activation', ...io, outputShape: input, activation: 'softmax' };
    default:
      throw unsupported(`${name}: layer type ${JSON.stringify(className)} is not supported (supported: ${SUPPORTED_LAYER_TYPES.join(', ')})`);
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
      if (inbound > 1) throw unsupported('a layer with several inputs (branching graph) is not supported: fedfleet runs chains of layers');
    }
  }
  return layers as LayerJson[];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ProtoError('PROTO_ERR_BAD_TOPOLOGY', 'topology is not valid JSON', { cause: error });
  }
}

/**
 * Reads a layers topology (object or its JSON text) into its chain of layers, shapes resolved for batch 1.
 * @throws ProtoError PROTO_ERR_UNSUPPORTED_LAYER for a layer type or activation not listed above (naming the layer),
 *   PROTO_ERR_BAD_TOPOLOGY for a malformed topology or inconsistent shapes.
 */
export function parseLayersTopology(topology: unknown): LayersTopology {
  const parsed = typeof topology === 'string' ? parseJson(topology) : topology;
  const list = layerList(parsed);
  let shape: number[] | undefined;
  let inputShape: number[] | undefined;
  const layers: LayerSpec[] = [];
  list.forEach((layer, index) => {
    const className = typeof layer.class_name === 'string' ? layer.class_name : '';
    const config = (typeof layer.config === 'object' && layer.config !== null ? layer.config : {}) as LayerConfig;
    const name = typeof config.name === 'string' ? config.name : `layer${index}`;
    if (shape === undefined) {
      shape = batchInputShape(config);
      if (!shape) throw bad(`${name}: the first layer declares no input shape`);
      inputShape = shape;
    }
    const spec = readLayer(className, config, name, shape);
    if (spec) {
      layers.push(spec);
      shape = spec.outputShape;
    }
  });
  if (!inputShape || layers.length === 0) throw bad('topology has no layers besides its input');
  return { inputShape, layers };
}
