/**
 * An eval task's deadline (`EvalTask.deadline_at_ms`) bounds it as a train task's does: past it the task is refused
 * before anything is fetched, and once it runs the deadline stops the download and the evaluation
 * (`AGENT_ERR_DEADLINE`), for a tfjs-layers model and an int8 .tflite alike — also one further away than a node timer
 * holds. The clock is vitest's: the deadline timer fires when the test moves it, never on the wall clock.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ResultCode, TensorEncoding, buildInt8Graph, calibrateRanges, encodeModelBlob, encodeTfliteInt8, floatModelFromTopology,
  type CommandProps, type EvalTaskProps, type HardwareProfileProps,
} from '@fedfleet/proto';
import { evaluateHandler } from '../../src/commands/evaluate.js';
import { TFLITE_FORMAT } from '../../src/commands/evaluate-int8.js';
import { memoryDataSource, type Dataset } from '../../src/data/dataset.js';
import { initBackend } from '../../src/ml/index.js';
import { pseudoRandom, smallMlp } from '../ml/fixtures.js';
import { fakeContext, type FakeContext } from './fake-context.js';

/** `count` seeded examples of 784 values in [0, 1). */
function dataset(count: number, seed: number): Dataset {
  const x = pseudoRandom(count * 784, seed).map((v) => (v + 1) / 2);
  const y = new Uint8Array(count).map((_, i) => i % 10);
  return { x, y, count, inputShape: [784], numClasses: 10 };
}

const mlp = smallMlp(3);
// 600 held-out examples: three slices of 256, so a stop after the first one is visible.
const test = dataset(600, 9);
const dataSource = memoryDataSource('synthetic', dataset(100, 7), test);
const floatModel = floatModelFromTopology(mlp.topologyJson, mlp.weights);
const rows = Array.from({ length: 100 }, (_, i) => test.x.subarray(i * 784, (i + 1) * 784));
const tflite = encodeTfliteInt8(buildInt8Graph(floatModel, calibrateRanges(floatModel, rows)));
const blob = encodeModelBlob(mlp, TensorEncoding.TENSOR_ENCODING_FP32);
const MODELS = {
  'a tfjs-layers model': { versionId: 'v-2', sha256: 'a'.repeat(64), sizeBytes: blob.length },
  'an int8 .tflite': { versionId: 'v-2', sha256: 'b'.repeat(64), sizeBytes: tflite.length, format: TFLITE_FORMAT, encoding: TensorEncoding.TENSOR_ENCODING_INT8 },
};
const artifacts = { [MODELS['a tfjs-layers model'].sha256]: blob, [MODELS['an int8 .tflite'].sha256]: tflite };
const LINUX: HardwareProfileProps = { kind: 'rpi4', int8Only: false, canTrain: true };
const START_MS = 1_000_000;
const DAY_MS = 24 * 3600 * 1000;

const handler = evaluateHandler({ dataSource, profile: LINUX, now: () => Date.now() });
const evalCommand = (model: EvalTaskProps['model'], deadlineAtMs: number): CommandProps => ({
  commandId: 'cmd-1', eval: { roundId: 'r-1', model, deadlineAtMs },
});

/** A context whose download never finishes by itself: only its signal (cancel or deadline) ends it. */
function stuckDownload(): { ctx: FakeContext; fetchSignal: () => AbortSignal | undefined } {
  const ctx = fakeContext();
  let signal: AbortSignal | undefined;
  ctx.fetchArtifact = ({ sha256 }, until) => new Promise<Uint8Array>((_resolve, reject) => {
    ctx.fetched.push(sha256);
    signal = until;
    until?.addEventListener('abort', () => reject(new Error('download aborted')));
  });
  return { ctx, fetchSignal: () => signal };
}

/** Lets the handler run up to its next wait on the (stuck) download. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe.each(Object.entries(MODELS))('eval task deadline, %s', (_name, model) => {
  beforeAll(async () => {
    await initBackend();
  });
  beforeEach(() => {
    // Only the timers and the clock the deadline uses; the event loop (setImmediate) stays real.
    vi.useFakeTimers({ now: START_MS, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses a task past its deadline with AGENT_ERR_DEADLINE before fetching anything', async () => {
    const ctx = fakeContext(artifacts);
    await handler.run(ctx, evalCommand(model, START_MS - 1));
    expect(ctx.replies).toEqual([expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_DEADLINE', roundId: 'r-1' })]);
    expect([...ctx.fetched, ...ctx.published]).toEqual([]);
  });

  it('stops a download still running at the deadline with AGENT_ERR_DEADLINE', async () => {
    const { ctx, fetchSignal } = stuckDownload();
    const run = handler.run(ctx, evalCommand(model, START_MS + 5_000));
    const outcome = run.then(() => undefined, (error: unknown) => error);
    await settle();
    expect(fetchSignal()?.aborted).toBe(false);
    vi.advanceTimersByTime(5_000);
    expect(await outcome).toMatchObject({ code: 'AGENT_ERR_DEADLINE' });
    expect(fetchSignal()?.aborted).toBe(true);
    expect(ctx.published).toEqual([]);
    expect(ctx.replies).toEqual([]); // the agent answers FAILED with the thrown code, as for a train task
  });

  it('stops the evaluation between slices once the deadline passes, and reports no result', async () => {
    const ctx = fakeContext(artifacts);
    // The deadline passes while the first slice is scored.
    ctx.progress = (progress) => {
      ctx.progressReports.push(progress);
      vi.advanceTimersByTime(5_000);
    };
    await expect(handler.run(ctx, evalCommand(model, START_MS + 5_000))).rejects.toMatchObject({ code: 'AGENT_ERR_DEADLINE' });
    expect(ctx.progressReports).toEqual([{ roundId: 'r-1', phase: 'eval', fraction: 256 / 600 }]);
    expect(ctx.published).toEqual([]);
  });

  it('honours a deadline further away than a node timer holds (2^31 ms ≈ 24.8 days) instead of failing at once', async () => {
    const { ctx, fetchSignal } = stuckDownload();
    const run = handler.run(ctx, evalCommand(model, START_MS + 30 * DAY_MS));
    const outcome = run.then(() => undefined, (error: unknown) => error);
    await settle();
    vi.advanceTimersByTime(29 * DAY_MS);
    expect(fetchSignal()?.aborted).toBe(false);
    vi.advanceTimersByTime(DAY_MS);
    expect(await outcome).toMatchObject({ code: 'AGENT_ERR_DEADLINE' });
  });

  it('runs to its result and DONE before the deadline', async () => {
    const ctx = fakeContext(artifacts);
    await handler.run(ctx, evalCommand(model, START_MS + 30 * DAY_MS));
    expect(ctx.published).toEqual([{ kind: 'reply', body: { evalResult: expect.objectContaining({ roundId: 'r-1', exampleCount: 600 }) } }]);
    expect(ctx.replies).toEqual([{ code: ResultCode.RESULT_CODE_DONE, roundId: 'r-1' }]);
    expect(ctx.progressReports.map((p) => p.fraction)).toEqual([256 / 600, 512 / 600, 1]);
  });
});
