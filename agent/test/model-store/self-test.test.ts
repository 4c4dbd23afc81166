import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '@fedfleet/proto';
import { runPairedSelfTest } from '../../src/model-store/self-test.js';
import type { LoadedModel, SelfTestExample } from '../../src/model-store/types.js';
import { AgentError } from '../../src/errors.js';

const CLASSES = 4;

/** A model that answers the example's label (or throws) and advances the fake clock by the current cost of one inference. */
function model(versionId: string, tick: () => void, options: { throwAt?: number; computeMs?: number } = {}): LoadedModel {
  let calls = 0;
  return {
    manifest: { versionId, numClasses: CLASSES, input: { shape: [CLASSES] } } as unknown as BundleManifest,
    async predict(x) {
      if (calls++ === options.throwAt) throw new Error('boom');
      tick();
      const classIndex = x.indexOf(Math.max(...x));
      const scores = Float32Array.from({ length: CLASSES }, (_, i) => (i === classIndex ? 1 : 0));
      return { classIndex, scores, ...(options.computeMs !== undefined ? { computeMs: options.computeMs } : {}) };
    },
    dispose() {},
  };
}

const examples: SelfTestExample[] = Array.from({ length: 40 }, (_, i) => {
  const x = new Float32Array(CLASSES);
  x[i % CLASSES] = 1;
  return { x, label: i % CLASSES };
});

describe('paired self-test', () => {
  it('weighs load that grows during the test on the new and the replaced version alike', async () => {
    // The host gets busier as the test runs: each inference costs 1 ms more than the one before. Run one model
    // after the other, the second would look ~3× slower; interleaved, both see the same load.
    let nowMs = 0;
    let costMs = 1;
    const tick = () => { nowMs += costMs; costMs += 1; };
    const result = await runPairedSelfTest(model('v2', tick), model('v1', tick), examples, () => nowMs);
    expect(result.selfTest.accuracy).toBe(1);
    expect(result.baseline?.accuracy).toBe(1);
    const ratio = result.selfTest.p95Ms! / result.baseline!.p95Ms!;
    expect(ratio).toBeGreaterThan(0.95);
    expect(ratio).toBeLessThan(1.05);
  });

  it("reports the models' own compute time when they give it, whatever kept the answer waiting", async () => {
    // Other work on the host makes every call take 1–41 ms of wall time; the models say they computed for 2 and 3 ms.
    let nowMs = 0;
    let waitMs = 0;
    const tick = () => { nowMs += 1 + (waitMs = (waitMs + 17) % 41); };
    const result = await runPairedSelfTest(model('v2', tick, { computeMs: 3 }), model('v1', tick, { computeMs: 2 }), examples, () => nowMs);
    expect(result.selfTest).toMatchObject({ p50Ms: 3, p95Ms: 3 });
    expect(result.baseline).toMatchObject({ p50Ms: 2, p95Ms: 2 });
  });

  it('fails on a challenger that throws, and only drops the baseline of a champion that throws', async () => {
    let nowMs = 0;
    const tick = () => { nowMs += 1; };
    await expect(runPairedSelfTest(model('v2', tick, { throwAt: 3 }), model('v1', tick), examples, () => nowMs))
      .rejects.toMatchObject({ code: 'AGENT_ERR_SELF_TEST_FAILED' });
    const result = await runPairedSelfTest(model('v2', tick), model('v1', tick, { throwAt: 3 }), examples, () => nowMs);
    expect(result.selfTest.examples).toBe(40);
    expect(result.baseline).toBeUndefined();
    expect(result.baselineError).toBeInstanceOf(AgentError);
  });
});
