/**
 * Bundle loaders: an int8 .tflite runs on the integer kernels with the input quantized by the graph's parameters and
 * dequantized scores; a tfjs-layers payload predicts what its TensorFlow.js model predicts; each refuses what it
 * cannot run with a code, and a bad input is AGENT_ERR_BAD_INPUT.
 */
import * as tf from '@tensorflow/tfjs';
import {
  Int8Interpreter, TensorEncoding, argMaxInt8, decodeTfliteInt8, encodeModelBlob, quantizeActivation, type BundleManifest,
} from '@fedfleet/proto';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../../src/errors.js';
import { modelFromTopology } from '../../src/ml/model-io.js';
import { int8Loader } from '../../src/model-store/int8-loader.js';
import { bundleLoader, tfjsLoader } from '../../src/model-store/tfjs-loader.js';
import { pseudoRandom, smallMlp } from '../ml/fixtures.js';
import { heldOut, int8Payload, testBundle, testKey } from './fixtures.js';

const key = testKey();
const int8 = testBundle(key, 'v1', int8Payload(1.5));
const codeOf = (promise: Promise<unknown>) => promise.then(() => undefined, (e: AgentError) => e.code);

describe('int8 loader', () => {
  it('predicts what the integer-only interpreter computes, with dequantized scores', async () => {
    const model = await int8Loader()(int8.parsed, int8.payload);
    const graph = decodeTfliteInt8(int8.payload);
    const interpreter = new Int8Interpreter(graph);
    const out = graph.tensors[graph.output]!.quant;
    for (const { x, label } of heldOut(16)) {
      quantizeActivation(x, graph.tensors[graph.input]!.quant, interpreter.input);
      const codes = interpreter.invoke();
      const prediction = await model.predict(x);
      expect(prediction.classIndex).toBe(argMaxInt8(codes));
      expect(prediction.classIndex).toBe(label);
      expect(Array.from(prediction.scores)).toEqual(Array.from(codes, (q) => Math.fround(out.scale * (q - out.zeroPoint))));
    }
  });

  it('refuses a wrong input length or a non-finite value, a graph unlike its manifest, and what admission refuses', async () => {
    const model = await int8Loader()(int8.parsed, int8.payload);
    expect(await codeOf(model.predict(new Float32Array(3)))).toBe('AGENT_ERR_BAD_INPUT');
    expect(await codeOf(model.predict(Float32Array.of(0, Number.NaN, 0, 0)))).toBe('AGENT_ERR_BAD_INPUT');
    const unlike: BundleManifest = { ...int8.parsed, numClasses: 10 };
    expect(await codeOf(int8Loader()(unlike, int8.payload))).toBe('AGENT_ERR_MODEL_LOAD');
    const admit = () => new AgentError('AGENT_ERR_MODEL_TOO_LARGE', 'needs 300 KiB arena, profile has 256 KiB');
    expect(await codeOf(int8Loader({ admit })(int8.parsed, int8.payload))).toBe('AGENT_ERR_MODEL_TOO_LARGE');
  });
});

describe('tfjs-layers loader', () => {
  const mlp = smallMlp(3);
  const payload = encodeModelBlob(mlp, TensorEncoding.TENSOR_ENCODING_FP32);
  const layers = testBundle(key, 'v2', payload, {
    format: 'tfjs-layers', encoding: 'fp32', input: { shape: [784] }, numClasses: 10,
    minProfile: { ramBytes: 1 << 20, flashBytes: 0, int8Only: false, runtime: 'tfjs' },
  });

  it('predicts the probabilities of the TensorFlow.js model', async () => {
    const loaded = await bundleLoader()(layers.parsed, payload);
    const reference = await modelFromTopology(mlp.topologyJson, mlp.weights);
    const x = pseudoRandom(784, 5).map((v) => (v + 1) / 2);
    const expected = tf.tidy(() => (reference.predict(tf.tensor(x, [1, 784])) as tf.Tensor).dataSync());
    const prediction = await loaded.predict(x);
    expect(Array.from(prediction.scores)).toEqual(Array.from(expected));
    expect(prediction.classIndex).toBe(expected.indexOf(Math.max(...expected)));
    reference.dispose();
    loaded.dispose();
  });

  it('refuses float on an int8-only profile, and a model unlike its manifest', async () => {
    expect(await codeOf(tfjsLoader({ profile: { kind: 'mcu', int8Only: true } })(layers.parsed, payload))).toBe('AGENT_ERR_CANNOT_RUN_FLOAT');
    expect(await codeOf(tfjsLoader()({ ...layers.parsed, input: { shape: [28, 28, 1] } }, payload))).toBe('AGENT_ERR_MODEL_LOAD');
    expect(await codeOf(tfjsLoader()(layers.parsed, new Uint8Array([1, 2, 3])))).toBe('AGENT_ERR_MODEL_LOAD');
  });
});
