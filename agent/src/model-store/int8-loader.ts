/**
 * Loads an int8 `.tflite` bundle payload for the integer-only kernels (the runtime every agent and microcontroller
 * has): the flatbuffer is decoded to an Int8Graph and run by Int8Interpreter. Each input is quantized with the
 * graph's input scale and zero point — the only float step before the integer path [TFLite int8 spec] — and the
 * int8 output codes come back dequantized, real = scale × (q − zeroPoint), as the prediction's scores.
 */
import {
  Int8Interpreter, argMaxInt8, decodeTfliteInt8, quantizeActivation, shapeSize, type BundleManifest, type Int8Graph,
} from '@fedfleet/proto';
import { AgentError } from '../errors.js';
import { checkModelInput, inputLength } from './model-input.js';
import type { LoadedModel, ModelLoader, Prediction } from './types.js';

/**
 * Decides whether this device runs a decoded int8 model, before it is used (the bundle counterpart of the eval
 * path's Int8ModelAdmission): firmware-sim's microcontrollers judge flash and tensor arena with the MCU resource
 * model and refuse with AGENT_ERR_MODEL_TOO_LARGE and the numbers.
 */
export type Int8LoadAdmission = (graph: Int8Graph, manifest: BundleManifest) => AgentError | undefined;

export interface Int8LoaderOptions {
  admit?: Int8LoadAdmission;
}

class Int8LoadedModel implements LoadedModel {
  private interpreter: Int8Interpreter | undefined;
  private readonly classes: number;

  constructor(readonly manifest: BundleManifest, private readonly graph: Int8Graph) {
    this.interpreter = new Int8Interpreter(graph);
    this.classes = shapeSize(graph.tensors[graph.output]!.shape);
  }

  async predict(input: Float32Array): Promise<Prediction> {
    checkModelInput(this.manifest, input);
    const interpreter = this.interpreter;
    if (!interpreter) throw new AgentError('AGENT_ERR_MODEL_LOAD', `${this.manifest.versionId} was disposed`);
    // Synchronous from quantize to dequantize: no other inference can interleave with the shared buffers.
    const startMs = performance.now();
    quantizeActivation(input, this.graph.tensors[this.graph.input]!.quant, interpreter.input);
    const codes = interpreter.invoke();
    const { scale, zeroPoint } = this.graph.tensors[this.graph.output]!.quant;
    const scores = new Float32Array(this.classes);
    for (let c = 0; c < this.classes; c++) scores[c] = scale * (codes[c]! - zeroPoint);
    return { classIndex: argMaxInt8(codes, 0, this.classes), scores, computeMs: performance.now() - startMs };
  }

  dispose(): void {
    this.interpreter = undefined;
  }
}

/** A loader for `tflite` / `int8` payloads. */
export function int8Loader(options: Int8LoaderOptions = {}): ModelLoader {
  return async (manifest, payload) => {
    if (manifest.format !== 'tflite' || manifest.encoding !== 'int8') {
      throw new AgentError('AGENT_ERR_MODEL_LOAD', `the int8 kernels run int8 tflite payloads, not ${manifest.encoding} ${manifest.format}`);
    }
    let graph: Int8Graph;
    try {
      graph = decodeTfliteInt8(payload);
    } catch (error) {
      throw new AgentError('AGENT_ERR_MODEL_LOAD', `${manifest.versionId}: ${(error as Error).message}`, { cause: error });
    }
    const inputs = shapeSize(graph.tensors[graph.input]!.shape);
    const outputs = shapeSize(graph.tensors[graph.output]!.shape);
    if (inputs !== inputLength(manifest) || outputs !== manifest.numClasses) {
      throw new AgentError('AGENT_ERR_MODEL_LOAD', `${manifest.versionId}: the graph takes ${inputs} values and gives ${outputs} classes, the manifest says ${inputLength(manifest)} and ${manifest.numClasses}`);
    }
    const refusal = options.admit?.(graph, manifest);
    if (refusal) throw refusal;
    return new Int8LoadedModel(manifest, graph);
  };
}
