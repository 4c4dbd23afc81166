/**
 * Int8 evaluation (issue 9 item 3): an eval task whose model is an int8 .tflite runs integer-only on the device —
 * the same accuracy as running Int8Interpreter directly on the quantized digits — and int8-only profiles refuse
 * float models; a profile's admission check (firmware-sim's MCU fit) refuses with its reason.
 */
import { describe, expect, it } from 'vitest';
import {
  Int8Interpreter, ResultCode, TensorEncoding, argMaxInt8, buildInt8Graph, calibrateRanges, encodeTfliteInt8,
  floatModelFromTopology, quantizeActivation, type EvalTaskProps, type HardwareProfileProps, type Int8Graph, type ModelWeights,
} from '@fedfleet/proto';
import { evaluateHandler, type EvaluateHandlerOptions } from '../../src/commands/evaluate.js';
import { TFLITE_FORMAT, evaluateInt8Graph } from '../../src/commands/evaluate-int8.js';
import { mnistDataSource } from '../../src/data/mnist-source.js';
import { AgentError } from '../../src/errors.js';
import { smallMlp } from '../ml/fixtures.js';
import { fakeContext } from './fake-context.js';

const dataSource = mnistDataSource({ devices: 10, index: 0, partition: 'iid', seed: 1 });
const train = dataSource.train();
const test = dataSource.test();
const rowsOf = (data: typeof train) => Array.from({ length: data.count }, (_, i) => data.x.subarray(i * 784, (i + 1) * 784));

/**
 * A 784-10-10 MLP that classifies by the nearest class mean (a seeded, better-than-chance model without training):
 * hidden unit c scores x·m_c − |m_c|²/2 (+ an offset that keeps ReLU from clipping), the output copies the scores.
 */
function nearestMeanWeights(): ModelWeights {
  const means = new Float32Array(784 * 10);
  const counts = new Float32Array(10);
  for (let i = 0; i < train.count; i++) {
    const c = train.y[i]!;
    counts[c]!++;
    for (let p = 0; p < 784; p++) means[p * 10 + c]! += train.x[i * 784 + p]!;
  }
  const bias = new Float32Array(10);
  for (let c = 0; c < 10; c++) {
    let norm = 0;
    for (let p = 0; p < 784; p++) norm += (means[p * 10 + c]! /= counts[c]!) ** 2;
    bias[c] = 60 - norm / 2;
  }
  const identity = new Float32Array(100).map((_, i) => (i % 11 === 0 ? 1 : 0));
  return [
    { name: 'hidden/kernel', shape: [784, 10], data: means }, { name: 'hidden/bias', shape: [10], data: bias },
    { name: 'output/kernel', shape: [10, 10], data: identity }, { name: 'output/bias', shape: [10], data: new Float32Array(10) },
  ];
}

const model = floatModelFromTopology(smallMlp(1, 10).topologyJson, nearestMeanWeights());
const graph: Int8Graph = buildInt8Graph(model, calibrateRanges(model, rowsOf(train)));
const tflite = encodeTfliteInt8(graph);
const SHA = 'b'.repeat(64);
const INT8_REF = { versionId: 'v-2', sha256: SHA, sizeBytes: tflite.length, format: TFLITE_FORMAT, encoding: TensorEncoding.TENSOR_ENCODING_INT8 };
const LINUX: HardwareProfileProps = { kind: 'rpi4', int8Only: false, canTrain: true };
const MCU: HardwareProfileProps = { kind: 'mcu-m4', int8Only: true, canTrain: false };

/** Accuracy and mean cross-entropy computed here, straight from the interpreter, for comparison. */
function direct(): { accuracy: number; loss: number } {
  const interpreter = new Int8Interpreter(graph);
  const input = graph.tensors[graph.input]!.quant;
  const { scale, zeroPoint } = graph.tensors[graph.output]!.quant;
  let correct = 0;
  let loss = 0;
  rowsOf(test).forEach((row, i) => {
    const logits = interpreter.invoke(quantizeActivation(row, input));
    if (argMaxInt8(logits) === test.y[i]) correct++;
    const z = Array.from(logits, (q) => scale * (q - zeroPoint));
    const p = Math.exp(z[test.y[i]!]!) / z.reduce((sum, v) => sum + Math.exp(v), 0);
    loss += -Math.log(Math.min(Math.max(p, 1e-7), 1 - 1e-7));
  });
  return { accuracy: correct / test.count, loss: loss / test.count };
}

async function runEval(options: Partial<EvaluateHandlerOptions>, model: EvalTaskProps['model'] = INT8_REF) {
  const ctx = fakeContext({ [SHA]: tflite });
  await evaluateHandler({ dataSource, profile: LINUX, ...options }).run(ctx, { commandId: 'cmd-1', eval: { roundId: 'r-1', model } });
  return ctx;
}

describe('int8 evaluation', () => {
  const expected = direct();

  it('evaluateInt8Graph scores the digits as the interpreter does, integer-only after the input quantization', () => {
    expect(expected.accuracy).toBeGreaterThan(0.6); // a real classifier, so agreement means something
    const result = evaluateInt8Graph(graph, test);
    expect(result.count).toBe(test.count);
    expect(result.accuracy).toBe(expected.accuracy);
    expect(result.loss).toBeCloseTo(expected.loss, 9);
  });

  it.each([['a Linux agent', LINUX], ['an int8-only profile', MCU]])('%s answers an int8 .tflite eval task with an EvalResult, then DONE', async (_, profile) => {
    const ctx = await runEval({ profile });
    expect(ctx.fetched).toEqual([SHA]);
    expect(ctx.published).toEqual([{ kind: 'reply', body: { evalResult: {
      roundId: 'r-1', commandId: 'cmd-1', versionId: 'v-2', exampleCount: test.count, loss: expect.closeTo(expected.loss, 9), accuracy: expected.accuracy,
    } } }]);
    expect(ctx.replies).toEqual([{ code: ResultCode.RESULT_CODE_DONE, roundId: 'r-1' }]);
  });

  it('an int8-only profile refuses a float model before fetching it (AGENT_ERR_CANNOT_RUN_FLOAT)', async () => {
    const ctx = await runEval({ profile: MCU }, { versionId: 'v-2', sha256: SHA, format: 'tfjs-layers', encoding: TensorEncoding.TENSOR_ENCODING_INT8 });
    expect(ctx.replies).toEqual([expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_CANNOT_RUN_FLOAT', roundId: 'r-1' })]);
    expect([...ctx.fetched, ...ctx.published]).toEqual([]);
  });

  it('a float .tflite is refused (AGENT_ERR_BAD_MODEL)', async () => {
    const ctx = await runEval({}, { ...INT8_REF, encoding: TensorEncoding.TENSOR_ENCODING_FP32 });
    expect(ctx.replies).toEqual([expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_BAD_MODEL' })]);
  });

  it("the profile's admission check refuses a decoded model with its reason, before any inference", async () => {
    const seen: number[] = [];
    const ctx = await runEval({
      profile: MCU,
      admitInt8Model: (decoded) => {
        seen.push(decoded.ops.length);
        return new AgentError('AGENT_ERR_MODEL_TOO_LARGE', 'int8 model on mcu-m4: needs 300 KiB arena (RAM), profile has 256 KiB');
      },
    });
    expect(seen).toEqual([graph.ops.length]);
    expect(ctx.replies).toEqual([{
      code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_MODEL_TOO_LARGE', roundId: 'r-1',
      reason: 'the model does not fit this device profile: int8 model on mcu-m4: needs 300 KiB arena (RAM), profile has 256 KiB',
    }]);
    expect(ctx.published).toEqual([]);
  });
});
