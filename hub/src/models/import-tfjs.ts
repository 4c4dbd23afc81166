/**
 * Imports a TensorFlow.js layers model (`model.json` + its binary weight files) as fedfleet model content.
 * The model is loaded with TensorFlow.js itself, so the topology is checked by the framework that will run it and
 * the weights come out in `model.getWeights()` order, whatever order the manifest listed them in.
 */
import { tf } from './tfjs.js';
import type { ModelWeights } from '@fedfleet/proto';
import { HubError } from '../errors.js';
import type { ModelContent } from './model-registry.js';

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: unknown;
  format?: unknown;
}

export interface ImportedModel extends ModelContent {
  inputShape: number[];
  numClasses: number;
}

function invalid(message: string): HubError {
  return new HubError('HUB_ERR_MODEL_INVALID', { message });
}

/**
 * A value from model.json for an error message: short, without calling the value's own methods and without walking
 * into it (a value nested 20,000 deep overflows the stack of JSON.stringify).
 */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (Array.isArray(value)) return 'an array';
  return value !== null && typeof value === 'object' ? 'an object' : String(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The weight entries of a `weightsManifest` (every group, in order), each checked to be what the import reads: a
 * named float32 entry with a shape of non-negative integers. model.json is untrusted input: anything else is
 * HUB_ERR_MODEL_INVALID, never a TypeError.
 */
function weightSpecs(manifest: unknown): WeightEntry[] {
  if (manifest === undefined) return [];
  if (!Array.isArray(manifest)) throw invalid('weightsManifest is not an array');
  const specs: WeightEntry[] = [];
  for (const [g, group] of manifest.entries()) {
    if (!isRecord(group) || (group.weights !== undefined && !Array.isArray(group.weights))) {
      throw invalid(`weightsManifest[${g}] is not a group with a weights array`);
    }
    for (const [i, spec] of ((group.weights ?? []) as unknown[]).entries()) {
      const where = `weightsManifest[${g}].weights[${i}]`;
      if (!isRecord(spec) || typeof spec.name !== 'string') throw invalid(`${where} has no name`);
      if (!Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
        throw invalid(`${where} (${spec.name}) has no shape of non-negative integers`);
      }
      if (spec.dtype !== 'float32' || spec.quantization) {
        throw invalid(`weight ${spec.name} is ${spec.quantization ? 'quantized' : shown(spec.dtype)}; import float32 weights`);
      }
      specs.push(spec as unknown as WeightEntry);
    }
  }
  return specs;
}

/**
 * @param modelJson the parsed `model.json`
 * @param weightData the weight files of every manifest group, concatenated in manifest order
 */
export async function importTfjsLayersModel(modelJson: unknown, weightData: Uint8Array): Promise<ImportedModel> {
  const json = modelJson as ModelJson;
  if (!json || typeof json !== 'object' || typeof json.modelTopology !== 'object' || json.modelTopology === null) {
    throw invalid('model.json has no modelTopology object (is it a layers model?)');
  }
  if (json.format && json.format !== 'layers-model') throw invalid(`format ${shown(json.format)} is not a layers model`);
  const specs = weightSpecs(json.weightsManifest);
  let expectedBytes = 0;
  for (const spec of specs) expectedBytes += 4 * spec.shape.reduce((a, b) => a * b, 1);
  if (expectedBytes !== weightData.byteLength) {
    throw invalid(`weights manifest describes ${expectedBytes} bytes, ${weightData.byteLength} were given`);
  }
  const buffer = weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) as ArrayBuffer;
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology as tf.io.ModelJSON['modelTopology'],
      weightSpecs: specs as tf.io.WeightsManifestEntry[],
      weightData: buffer,
    }));
  } catch (error) {
    throw invalid(`TensorFlow.js cannot load it: ${(error as Error).message}`);
  }
  try {
    const weights: ModelWeights = model.weights.map((variable) => {
      const value = variable.read();
      return { name: variable.originalName, shape: [...value.shape], data: new Float32Array(value.dataSync()) };
    });
    // Every stored version is finite (DESIGN §4: updates are checked the same way); NaN weights would only fail
    // later, when the artifact is encoded.
    for (const w of weights) {
      const bad = w.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw invalid(`weight ${w.name} value ${bad} is ${w.data[bad]}`);
    }
    const inputShape = model.inputs[0]!.shape.slice(1).map((d) => d ?? 0);
    const outputShape = model.outputs[0]!.shape;
    const numClasses = outputShape[outputShape.length - 1] ?? 0;
    if (weights.length === 0) throw invalid('the model has no trainable weights');
    return { topologyJson: JSON.stringify(model.toJSON(null, false)), weights, inputShape, numClasses };
  } finally {
    model.dispose();
  }
}
