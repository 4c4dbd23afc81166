/**
 * The `calibrate` handler (issue 9 item 2) with a fake CommandContext: it reports per-tensor statistics of the float
 * model over the device's training examples — the same statistics as one central pass over them — then DONE; it
 * refuses without data, on an int8-only profile, past the deadline, and stops on a cancel.
 */
import { describe, expect, it } from 'vitest';
import {
  CalibrationReport, ResultCode, TensorEncoding, calibrationStatsToWire, collectCalibrationStats, encodeModelBlob,
  floatModelFromTopology, type CalibrateTaskProps, type CalibrationReportProps, type HardwareProfileProps,
} from '@fedfleet/proto';
import { calibrateHandler, type CalibrateHandlerOptions } from '../../src/commands/calibrate.js';
import { memoryDataSource, type Dataset } from '../../src/data/dataset.js';
import { pseudoRandom, smallMlp } from '../ml/fixtures.js';
import { fakeContext } from './fake-context.js';

const mlp = smallMlp(3);
const blob = encodeModelBlob(mlp, TensorEncoding.TENSOR_ENCODING_FP32);
const SHA = 'a'.repeat(64);
const artifacts = { [SHA]: blob };
const LINUX: HardwareProfileProps = { kind: 'rpi4', int8Only: false, canTrain: true };
const MCU: HardwareProfileProps = { kind: 'mcu-m4', int8Only: true, canTrain: false };

/** `count` seeded examples of 784 values in [0, 1). */
function dataset(count: number, seed = 7): Dataset {
  const x = pseudoRandom(count * 784, seed).map((v) => (v + 1) / 2);
  const y = new Uint8Array(count).map((_, i) => i % 10);
  return { x, y, count, inputShape: [784], numClasses: 10 };
}

const train = dataset(700);
const dataSource = memoryDataSource('synthetic', train, dataset(50, 9));

function task(extra: Partial<CalibrateTaskProps> = {}): { commandId: string; calibrate: CalibrateTaskProps } {
  return { commandId: 'cmd-1', calibrate: { jobId: 'job-1', model: { versionId: 'v-3', sha256: SHA, sizeBytes: blob.length }, ...extra } };
}

function reportOf(ctx: ReturnType<typeof fakeContext>): CalibrationReportProps {
  expect(ctx.published).toHaveLength(1);
  expect(ctx.published[0]!.kind).toBe('reply');
  return ctx.published[0]!.body.calibrationReport!;
}

function handler(options: Partial<CalibrateHandlerOptions> = {}) {
  return calibrateHandler({ dataSource, profile: LINUX, ...options });
}

describe('calibrate command', () => {
  it('reports the statistics of one central pass over the first max_examples training examples, then DONE', async () => {
    const ctx = fakeContext(artifacts);
    // Slices of 64 examples: the slicing (for cancels and keepalives) must not change a single bin.
    await handler({ sliceExamples: 64 }).run(ctx, task({ maxExamples: 300, histogramBins: 128 }));

    const model = floatModelFromTopology(mlp.topologyJson, mlp.weights);
    const rows = Array.from({ length: 300 }, (_, i) => train.x.subarray(i * 784, (i + 1) * 784));
    const central = calibrationStatsToWire(collectCalibrationStats(model, rows, { bins: 128 }));
    const report = reportOf(ctx);
    expect(report).toEqual({ jobId: 'job-1', commandId: 'cmd-1', versionId: 'v-3', exampleCount: 300, tensors: central });
    expect(report.tensors!.map((t) => t.name)).toEqual(['input', 'hidden', 'output']);
    expect(report.tensors!.every((t) => t.counts!.length <= 128)).toBe(true);
    expect(ctx.replies).toEqual([{ code: ResultCode.RESULT_CODE_DONE }]);
    expect(ctx.progressReports.map((p) => p.fraction)).toEqual([64, 128, 192, 256, 300].map((n) => n / 300));
  });

  it('max_examples 0 calibrates on every training example', async () => {
    const ctx = fakeContext(artifacts);
    await handler().run(ctx, task());
    expect(reportOf(ctx).exampleCount).toBe(700);
  });

  it('only statistics leave the device: the report size is bounded by the bin budget, not the example count', async () => {
    const sizes: number[] = [];
    for (const maxExamples of [20, 700]) {
      const ctx = fakeContext(artifacts);
      await handler().run(ctx, task({ maxExamples, histogramBins: 64 }));
      const report = reportOf(ctx);
      // Per tensor: name, min, max, count, width, first bin and at most 64 counts — nothing per example.
      expect(report.tensors!.every((t) => Object.keys(t).sort().join() === 'binWidthLog2,count,counts,firstBin,max,min,name' && t.counts!.length <= 64)).toBe(true);
      sizes.push(CalibrationReport.encode(report).finish().length);
    }
    // 3 tensors × (64 counts of ≤ 3 varint bytes + ~40 bytes of fields) + ids; one example's pixels alone are 3 KiB.
    const bound = 3 * (64 * 3 + 40) + 64;
    expect(sizes.every((size) => size <= bound)).toBe(true);
  });

  it('refuses on an int8-only profile (no float kernels) and without local data, before fetching anything', async () => {
    const mcu = fakeContext(artifacts);
    await handler({ profile: MCU }).run(mcu, task());
    expect(mcu.replies).toEqual([expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_CANNOT_RUN_FLOAT' })]);
    const noData = fakeContext(artifacts);
    await handler({ dataSource: undefined }).run(noData, task());
    expect(noData.replies).toEqual([expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_NO_DATA' })]);
    const badBins = fakeContext(artifacts);
    await handler().run(badBins, task({ histogramBins: 1_000_000 }));
    expect(badBins.replies).toEqual([expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_BAD_COMMAND' })]);
    expect([mcu, noData, badBins].flatMap((ctx) => [...ctx.fetched, ...ctx.published])).toEqual([]);
  });

  it('refuses a task past its deadline and stops when the deadline passes while it runs', async () => {
    const late = fakeContext(artifacts);
    await handler({ now: () => 2_000 }).run(late, task({ deadlineAtMs: 1_000 }));
    expect(late.replies).toEqual([expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_DEADLINE' })]);

    // The clock advances one ms per look: accepted at 0, the deadline passes after a few slices.
    let nowMs = 0;
    const running = fakeContext(artifacts);
    const run = handler({ now: () => nowMs++, sliceExamples: 50 }).run(running, task({ deadlineAtMs: 3 }));
    await expect(run).rejects.toMatchObject({ code: 'AGENT_ERR_DEADLINE' });
    expect(running.published).toEqual([]);
  });

  it('stops on a cancel between slices and reports nothing', async () => {
    const reason = Object.assign(new Error('cancelled by hub'), { code: 'AGENT_ERR_CANCELLED' });
    // The cancel arrives while the first slice runs (the event loop delivers it at the next yield).
    const ctx = fakeContext(artifacts, (self) => void setImmediate(() => self.controller.abort(reason)));
    await expect(handler({ sliceExamples: 50 }).run(ctx, task())).rejects.toBe(reason);
    expect(ctx.progressReports).toEqual([{ phase: 'calibrate', fraction: 50 / 700 }]); // one slice of 14 ran
    expect(ctx.published).toEqual([]);
    expect(ctx.replies).toEqual([]);
  });

  it('fails with the proto code on a model the int8 path cannot run', async () => {
    const topology = JSON.parse(mlp.topologyJson) as { config: { layers: Array<{ config: { activation?: string } }> } };
    topology.config.layers[0]!.config.activation = 'tanh';
    const bad = encodeModelBlob({ topologyJson: JSON.stringify(topology), weights: mlp.weights }, TensorEncoding.TENSOR_ENCODING_FP32);
    const ctx = fakeContext({ [SHA]: bad });
    await expect(handler().run(ctx, task())).rejects.toMatchObject({ code: 'PROTO_ERR_UNSUPPORTED_LAYER' });
  });
});
