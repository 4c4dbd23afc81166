/**
 * Loads a `tfjs-layers` bundle payload (ModelBlob bytes: topology plus weights) into a TensorFlow.js model, and the
 * loader agents use for any bundle: tfjs for layers payloads, the integer kernels for int8 tflite. This file is on
 * the ML side of the agent (it imports tfjs); the core agent reaches it only through `@fedfleet/agent/training`.
 */
import * as tf from '@tensorflow/tfjs';
import { decodeModelBlob, type BundleManifest, type HardwareProfileProps } from '@fedfleet/proto';
import { AgentError } from '../errors.js';
import { modelFromTopology } from '../ml/model-io.js';
import { int8Loader, type Int8LoadAdmission } from './int8-loader.js';
import { argMaxScores, checkModelInput } from './model-input.js';
import type { LoadedModel, ModelLoader, Prediction } from './types.js';

class TfjsLoadedModel implements LoadedModel {
  private model: tf.LayersModel | undefined;

  constructor(readonly manifest: BundleManifest, model: tf.LayersModel, private readonly softmaxDone: boolean) {
    this.model = model;
  }

  async predict(input: Float32Array): Promise<Prediction> {
    checkModelInput(this.manifest, input);
    const model = this.model;
    if (!model) throw new AgentError('AGENT_ERR_MODEL_LOAD', `${this.manifest.versionId} was disposed`);
    // Synchronous from the input tensor to the scores (dataSync), so computeMs is this model's work alone.
    const startMs = performance.now();
    const output = tf.tidy(() => {
      const logits = model.predict(tf.tensor(input, [1, ...this.manifest.input.shape], 'float32')) as tf.Tensor;
      return this.softmaxDone ? logits : tf.softmax(logits);
    });
    try {
      const scores = new Float32Array(output.dataSync());
      return { classIndex: argMaxScores(scores), scores, computeMs: performance.now() - startMs };
    } finally {
      output.dispose();
    }
  }

  dispose(): void {
    this.model?.dispose();
    this.model = undefined;
  }
}

function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A loader for `tfjs-layers` payloads. An int8-only profile has no float kernels: AGENT_ERR_CANNOT_RUN_FLOAT. */
export function tfjsLoader(options: { profile?: HardwareProfileProps } = {}): ModelLoader {
  return async (manifest, payload) => {
    if (manifest.format !== 'tfjs-layers') throw new AgentError('AGENT_ERR_MODEL_LOAD', `TensorFlow.js runs tfjs-layers payloads, not ${manifest.format}`);
    if (options.profile?.int8Only) throw new AgentError('AGENT_ERR_CANNOT_RUN_FLOAT', `${manifest.encoding} ${manifest.format} on ${options.profile.kind ?? 'this device'}`);
    let model: tf.LayersModel;
    try {
      const artifact = decodeModelBlob(payload);
      model = await modelFromTopology(artifact.topologyJson, artifact.weights);
    } catch (error) {
      throw new AgentError('AGENT_ERR_MODEL_LOAD', `${manifest.versionId}: ${(error as Error).message}`, { cause: error });
    }
    const inputShape = model.inputs[0]!.shape.slice(1);
    const outputShape = (model.outputs[0]!.shape as (number | null)[]).slice(1);
    if (model.inputs.length !== 1 || !sameShape(inputShape, manifest.input.shape) || !sameShape(outputShape, [manifest.numClasses])) {
      model.dispose();
      throw new AgentError('AGENT_ERR_MODEL_LOAD', `${manifest.versionId}: the model maps [${inputShape}] to [${outputShape}], the manifest says [${manifest.input.shape}] to [${manifest.numClasses}]`);
    }
    const last = model.layers[model.layers.length - 1]!.getConfig() as { activation?: unknown };
    return new TfjsLoadedModel(manifest, model, last.activation === 'softmax');
  };
}

export interface BundleLoaderOptions {
  profile?: HardwareProfileProps;
  /** Judges int8 models before they load (firmware-sim's MCU fit check). */
  admitInt8?: Int8LoadAdmission;
}

/** The loader for every bundle an agent accepts: by the manifest's format. */
export function bundleLoader(options: BundleLoaderOptions = {}): ModelLoader {
  const layers = tfjsLoader(options.profile ? { profile: options.profile } : {});
  const int8 = int8Loader(options.admitInt8 ? { admit: options.admitInt8 } : {});
  return (manifest, payload) => (manifest.format === 'tflite' ? int8 : layers)(manifest, payload);
}
