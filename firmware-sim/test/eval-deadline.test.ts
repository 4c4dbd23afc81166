/**
 * A simulated microcontroller answers an eval task with the agent's handler and its own MCU admission (the command
 * table sim-fleet builds), so the task's deadline bounds it there too: refused past it before the .tflite is fetched
 * or judged, stopped (AGENT_ERR_DEADLINE, no EvalResult) when it passes during the evaluation. Time is vitest's.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger, type CommandContext } from '@fedfleet/agent';
import { memoryDataSource, type Dataset } from '@fedfleet/agent/ml';
import { TFLITE_FORMAT, createTrainingCommands } from '@fedfleet/agent/training';
import {
  ResultCode, TensorEncoding, buildInt8Graph, encodeTfliteInt8, mulberry32, type CommandResultProps, type FloatModel,
  type ProgressProps,
} from '@fedfleet/proto';
import { SIM_PROFILES, mcuInt8Admission, wireProfile } from '../src/index.js';

const START_MS = 1_000_000;
const SHA = 'c'.repeat(64);

/** A small int8 784-32-10 MLP from seeded weights: it fits an mcu-m4. */
function tflite(): Uint8Array {
  const rng = mulberry32(32);
  const dense = (name: string, inputs: number, units: number, activation: 'relu' | 'none') => ({
    kind: 'dense' as const, name, units, activation,
    kernel: Float32Array.from({ length: inputs * units }, () => rng() - 0.5), bias: new Float32Array(units),
  });
  const model: FloatModel = { inputShape: [784], layers: [dense('dense1', 784, 32, 'relu'), dense('output', 32, 10, 'none')] };
  return encodeTfliteInt8(buildInt8Graph(model, { input: [0, 1], layers: [[0, 8], [-8, 8]] }));
}

function dataset(count: number): Dataset {
  const rng = mulberry32(count);
  return { x: Float32Array.from({ length: count * 784 }, () => rng()), y: new Uint8Array(count).map((_, i) => i % 10), count, inputShape: [784], numClasses: 10 };
}

const bytes = tflite();
const profile = SIM_PROFILES['mcu-m4']!;

/** The mcu-m4 device's `eval` handler as sim-fleet wires it; `judged` counts its admission checks. */
function mcuEval() {
  const judged: string[] = [];
  const commands = createTrainingCommands({
    dataSource: memoryDataSource('synthetic', dataset(10), dataset(600)),
    profile: wireProfile(profile),
    admitInt8Model: mcuInt8Admission(profile, (_fit, ctx) => judged.push(ctx.commandId)),
  });
  return { handler: commands.eval!, judged };
}

function context(onProgress: () => void = () => {}) {
  const replies: Array<Omit<CommandResultProps, 'commandId'>> = [];
  const published: unknown[] = [];
  const progress: Array<Omit<ProgressProps, 'commandId'>> = [];
  const fetched: string[] = [];
  const ctx: CommandContext = {
    deviceId: 'sim-000', commandId: 'cmd-1', log: silentLogger, signal: new AbortController().signal,
    reply: async (result) => void replies.push(result),
    progress: (p) => {
      progress.push(p);
      onProgress();
    },
    publish: async (_kind, body) => void published.push(body),
    fetchArtifact: async ({ sha256 }) => {
      fetched.push(sha256);
      return bytes;
    },
  };
  return { ctx, replies, published, progress, fetched };
}

const evalTask = (deadlineAtMs: number) => ({
  commandId: 'cmd-1',
  eval: { roundId: 'r-1', deadlineAtMs, model: { versionId: 'v-2', sha256: SHA, sizeBytes: bytes.length, format: TFLITE_FORMAT, encoding: TensorEncoding.TENSOR_ENCODING_INT8 } },
});

describe('simulated microcontroller, eval task deadline', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: START_MS, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses a task past its deadline before fetching or judging the model', async () => {
    const { handler, judged } = mcuEval();
    const late = context();
    await handler.run(late.ctx, evalTask(START_MS - 1));
    expect(late.replies).toEqual([expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_DEADLINE', roundId: 'r-1' })]);
    expect([...late.fetched, ...judged, ...late.published]).toEqual([]);
  });

  it('stops the evaluation when the deadline passes during it and sends no result', async () => {
    const { handler, judged } = mcuEval();
    const running = context(() => vi.advanceTimersByTime(5_000));
    await expect(handler.run(running.ctx, evalTask(START_MS + 5_000))).rejects.toMatchObject({ code: 'AGENT_ERR_DEADLINE' });
    expect(judged).toEqual(['cmd-1']); // it fitted, and ran
    expect(running.progress).toHaveLength(1);
    expect(running.published).toEqual([]);
  });
});
