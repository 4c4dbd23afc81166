/** A tiny deterministic LoadedModel for the serving tests (the real loaders are tested with the model store). */
import type { BundleManifest } from '@fedfleet/proto';
import { AgentError } from '../../src/errors.js';
import type { LoadedModel, Prediction } from '../../src/model-store/types.js';

export const FAKE_INPUT_LENGTH = 4;
export const FAKE_CLASSES = 3;

export function fakeManifest(versionId: string): BundleManifest {
  return {
    bundleVersion: 1, modelId: 'm-1', modelName: 'fake', versionId, version: 1, format: 'tfjs-layers', encoding: 'fp32',
    payload: { sha256: '0'.repeat(64), sizeBytes: 1 },
    minProfile: { ramBytes: 1, flashBytes: 1, int8Only: false, runtime: 'tfjs' },
    input: { shape: [2, 2] }, numClasses: FAKE_CLASSES, createdAtMs: 0, keyId: '0'.repeat(16),
  };
}

export interface FakeModel extends LoadedModel {
  calls: number;
}

/**
 * Classifies by `classify(input)` (default: the index of the largest of the first three values); scores are one-hot.
 * `fail` makes every prediction throw.
 */
export function fakeModel(versionId: string, options: { classify?: (x: Float32Array) => number; fail?: boolean } = {}): FakeModel {
  const classify = options.classify ?? ((x) => (x[0]! >= x[1]! && x[0]! >= x[2]! ? 0 : x[1]! >= x[2]! ? 1 : 2));
  const model: FakeModel = {
    manifest: fakeManifest(versionId),
    calls: 0,
    async predict(input: Float32Array): Promise<Prediction> {
      model.calls += 1;
      if (options.fail) throw new Error(`${versionId} exploded`);
      if (input.length !== FAKE_INPUT_LENGTH) throw new AgentError('AGENT_ERR_BAD_INPUT', `length ${input.length}`);
      const classIndex = classify(input);
      const scores = new Float32Array(FAKE_CLASSES);
      scores[classIndex] = 1;
      return { classIndex, scores };
    },
    dispose() {},
  };
  return model;
}

/** A ServingSource whose models the test swaps. */
export function fakeSource(active?: LoadedModel, shadow?: LoadedModel): { active(): LoadedModel | undefined; shadow(): LoadedModel | undefined; set(a?: LoadedModel, s?: LoadedModel): void } {
  let current = { active, shadow };
  return {
    active: () => current.active,
    shadow: () => current.shadow,
    set: (a, s) => {
      current = { active: a, shadow: s };
    },
  };
}

/** An input the default classifier maps to `classIndex`. */
export function inputFor(classIndex: number): Float32Array {
  const x = new Float32Array(FAKE_INPUT_LENGTH);
  x[classIndex] = 1;
  return x;
}
