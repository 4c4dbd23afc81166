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
  weightsManifest?: { paths: string[]; weights: WeightEntry[] }[];
  format?: string;
}

export interface ImportedModel extends ModelContent {
  inputShape: number[];
  numClasses: number;
}

function invalid(message: string): HubError {
  return new HubError('HUB_ERR_MODEL_INVALID', { message });
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
  if (json.format && json.format !== 'layers-model') throw invalid(`format ${json.format} is not a layers model`);
  const specs = (json.weightsManifest ?? []).flatMap((group) => group.weights ?? []);
  let expectedBytes = 0;
  for (const spec of specs) {
    if (spec.dtype !== 'float32' || spec.quantization) {
      throw invalid(`weight ${spec.name} is ${spec.quantization ? 'quantized' : spec.dtype}; import float32 weights`);
    }
    expectedBytes += 4 * spec.shape.reduce((a, b) => a * b, 1);
  }
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
    const inputShape = model.inputs[0]!.shape.slice(1).map((d) => d ?? 0);
    const outputShape = model.outputs[0]!.shape;
    const numClasses = outputShape[outputShape.length - 1] ?? 0;
    if (weights.length === 0) throw invalid('the model has no trainable weights');
    return { topologyJson: JSON.stringify(model.toJSON(null, false)), weights, inputShape, numClasses };
  } finally {
    model.dispose();
  }
}
