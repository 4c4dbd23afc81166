import { describe, expect, it } from 'vitest';
import { InferenceService, InferenceStats, inferenceTelemetry } from '../../src/serving/index.js';
import { fakeModel, fakeSource, inputFor } from './fake-model.js';

/** A clock that advances by the next scripted latency between the two reads around each inference. */
function scriptedClock(latenciesMs: number[]): () => number {
  let now = 1_000;
  let reads = 0;
  return () => {
    if (reads++ % 2 === 1) now += latenciesMs[(reads - 2) / 2]!;
    return now;
  };
}

describe('InferenceStats', () => {
  it('gives nearest-rank p50/p95 over the window, accuracy over the recent labels, a counter that never resets', () => {
    const stats = new InferenceStats({ windowSize: 4 });
    expect(stats.snapshot()).toEqual({ count: 0 });
    for (const ms of [100, 1, 2, 3, 4]) stats.record(ms);
    expect(stats.snapshot()).toEqual({ count: 5, p50Ms: 2, p95Ms: 4 }); // 100 left the window of 4
    stats.record(5, true);
    for (const correct of [false, false, true, true]) stats.recordLabel(correct);
    expect(stats.snapshot().accuracy).toBe(0.5); // the first (true) left the window of 4
    stats.resetWindow();
    expect(stats.snapshot()).toEqual({ count: 6 });
    expect(inferenceTelemetry({ count: 6 })).toEqual({ inferenceCount: 6 });
    expect(inferenceTelemetry({ count: 2, p50Ms: 1, p95Ms: 3, accuracy: 0.5 }))
      .toEqual({ inferenceCount: 2, inferenceP50Ms: 1, inferenceP95Ms: 3, localAccuracy: 0.5 });
  });
});

describe('InferenceService', () => {
  it('times every inference with the injected clock: percentiles of a known latency sequence', async () => {
    const latencies = [7, 3, 20, 1, 15, 9, 12, 4, 18, 6, 2, 11, 19, 5, 14, 8, 17, 13, 10, 16];
    const service = new InferenceService(fakeSource(fakeModel('v1')), { clock: scriptedClock(latencies) });
    const answers = [];
    for (let i = 0; i < latencies.length; i++) answers.push(await service.predict(inputFor(i % 3)));
    expect(answers.map((a) => a.latencyMs)).toEqual(latencies);
    // 1..20 ms: nearest rank 10 of 20 is 10 ms, rank 19 of 20 is 19 ms.
    expect(service.stats.snapshot()).toEqual({ count: 20, p50Ms: 10, p95Ms: 19 });
  });

  it('answers with the active version and counts labelled accuracy from feedback, once per prediction', async () => {
    const service = new InferenceService(fakeSource(fakeModel('v1')));
    const a = await service.predict(inputFor(0));
    const b = await service.predict(inputFor(1));
    const c = await service.predict(inputFor(2));
    expect([a.classIndex, b.classIndex, c.classIndex]).toEqual([0, 1, 2]);
    expect(a).toMatchObject({ modelId: 'm-1', versionId: 'v1', requestId: expect.any(String) });
    expect(new Set([a.requestId, b.requestId, c.requestId]).size).toBe(3);
    expect(service.feedback(a.requestId, 0)).toBe(true);
    expect(service.feedback(b.requestId, 2)).toBe(true);
    expect(service.stats.snapshot().accuracy).toBe(0.5);
    expect(service.feedback(a.requestId, 0)).toBe(false); // already labelled
    expect(service.feedback('nope', 0)).toBe(false);
    for (const label of [3, -1, 1.5, Number.NaN]) expect(() => service.feedback(c.requestId, label)).toThrow(expect.objectContaining({ code: 'AGENT_ERR_BAD_INPUT' }));
    expect(service.stats.snapshot()).toMatchObject({ count: 3, accuracy: 0.5 });
    expect(service.feedback(c.requestId, 2)).toBe(true); // a refused label did not use the prediction up
    expect(service.stats.snapshot().accuracy).toBeCloseTo(2 / 3);
  });

  it('refuses without a model or with a bad input, counting nothing; a batch is checked whole first', async () => {
    const source = fakeSource();
    const service = new InferenceService(source);
    await expect(service.predict(inputFor(0))).rejects.toMatchObject({ code: 'AGENT_ERR_NO_MODEL' });
    source.set(fakeModel('v1'));
    await expect(service.predict(new Float32Array(3))).rejects.toMatchObject({ code: 'AGENT_ERR_BAD_INPUT', message: expect.stringMatching(/expected 4 values .*got 3/) });
    await expect(service.predict(Float32Array.of(0, Number.NaN, 0, 0))).rejects.toMatchObject({ code: 'AGENT_ERR_BAD_INPUT' });
    await expect(service.predict(Float32Array.of(0, 0, Infinity, 0))).rejects.toMatchObject({ code: 'AGENT_ERR_BAD_INPUT' });
    await expect(service.predictBatch([inputFor(0), new Float32Array(5)])).rejects.toMatchObject({ code: 'AGENT_ERR_BAD_INPUT', message: expect.stringMatching(/: inputs\[1\]: expected 4 values .*got 5$/) });
    expect(service.stats.snapshot()).toEqual({ count: 0 });
    expect((await service.predictBatch([inputFor(2), inputFor(1)])).map((p) => p.classIndex)).toEqual([2, 1]);
  });

  it('restarts the windows when another version serves; a late label for the old one is not counted', async () => {
    const source = fakeSource(fakeModel('v1'));
    const service = new InferenceService(source, { clock: scriptedClock([10, 10, 2]) });
    const first = await service.predict(inputFor(0));
    const late = await service.predict(inputFor(0));
    expect(service.feedback(first.requestId, 0)).toBe(true);
    expect(service.stats.snapshot()).toEqual({ count: 2, p50Ms: 10, p95Ms: 10, accuracy: 1, accuracyExamples: 1 });
    source.set(fakeModel('v2'));
    const now = await service.predict(inputFor(1));
    expect(now.versionId).toBe('v2');
    expect(service.stats.snapshot()).toEqual({ count: 3, p50Ms: 2, p95Ms: 2 }); // v1's latencies and label are not v2's
    expect(service.feedback(late.requestId, 1)).toBe(true); // used up, but says nothing about v2
    expect(service.stats.snapshot().accuracy).toBeUndefined();
    expect(service.feedback(now.requestId, 0)).toBe(true);
    expect(service.stats.snapshot()).toMatchObject({ count: 3, accuracy: 0 });
  });

  it('forgets the oldest predictions beyond its bound', async () => {
    const service = new InferenceService(fakeSource(fakeModel('v1')), { maxRecentPredictions: 2 });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await service.predict(inputFor(0))).requestId);
    expect(ids.map((id) => service.feedback(id, 0))).toEqual([false, true, true]);
  });
});

describe('InferenceService shadow runs', () => {
  it('runs the challenger on the same inputs after answering: agreement and both accuracies', async () => {
    const champion = fakeModel('v1');
    const challenger = fakeModel('v2', { classify: () => 0 });
    const service = new InferenceService(fakeSource(champion, challenger));
    const answers = [];
    for (const k of [0, 1, 2, 0]) answers.push(await service.predict(inputFor(k)));
    expect(challenger.calls).toBe(0); // nothing of the challenger ran before the answers were out
    expect(service.feedback(answers[0]!.requestId, 0)).toBe(true); // labelled while its shadow run is pending
    await service.shadowIdle();
    expect(challenger.calls).toBe(4);
    for (const [i, label] of [[1, 1], [2, 2], [3, 1]] as const) expect(service.feedback(answers[i]!.requestId, label)).toBe(true);
    // challenger says 0 everywhere: agrees on inputs 0 and 3; right only on the first (label 0).
    expect(service.shadowStats.snapshot()).toEqual({ inferences: 4, agreements: 2, labelled: 4, championCorrect: 3, challengerCorrect: 1 });
    expect(service.stats.snapshot()).toMatchObject({ count: 4, accuracy: 0.75 });
  });

  it('a throwing challenger never changes an answer; it counts as disagreeing and wrong', async () => {
    const plain = new InferenceService(fakeSource(fakeModel('v1')));
    const shadowed = new InferenceService(fakeSource(fakeModel('v1'), fakeModel('v2', { fail: true })));
    for (const k of [0, 1, 2]) {
      const [a, b] = [await plain.predict(inputFor(k)), await shadowed.predict(inputFor(k))];
      expect({ classIndex: b.classIndex, scores: b.scores, versionId: b.versionId }).toEqual({ classIndex: a.classIndex, scores: a.scores, versionId: a.versionId });
      await shadowed.shadowIdle();
      expect(shadowed.feedback(b.requestId, k)).toBe(true);
    }
    expect(shadowed.shadowStats.snapshot()).toEqual({ inferences: 3, agreements: 0, labelled: 3, championCorrect: 3, challengerCorrect: 0 });
    expect(shadowed.shadowStats.challengerFailures).toBe(3);
    expect(shadowed.stats.snapshot()).toMatchObject({ count: 3, accuracy: 1 });
  });

  it('bounds the challenger backlog, and a new shadow version starts from zero', async () => {
    const source = fakeSource(fakeModel('v1'), fakeModel('v2'));
    const service = new InferenceService(source, { maxPendingShadowRuns: 1 });
    await Promise.all([0, 1, 2].map((k) => service.predict(inputFor(k))));
    await service.shadowIdle();
    expect(service.skippedShadowInputs).toBe(2);
    expect(service.shadowStats.snapshot()).toMatchObject({ inferences: 1, agreements: 1 });
    source.set(fakeModel('v1'), fakeModel('v3', { classify: () => 2 }));
    await service.predict(inputFor(0));
    await service.shadowIdle();
    expect(service.shadowStats.snapshot()).toMatchObject({ inferences: 1, agreements: 0 });
  });
});
