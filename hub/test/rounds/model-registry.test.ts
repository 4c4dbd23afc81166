import { describe, expect, it } from 'vitest';
import { decodeModelBlob, type ModelWeights } from '@fedfleet/proto';
import { isHubError } from '../../src/errors.js';
import type { ModelRegistry } from '../../src/models/model-registry.js';
import { startTestHub } from '../helpers/test-hub.js';
import { tinyDelta } from './round-helpers.js';

const TOPOLOGY = JSON.stringify({ class_name: 'Sequential', config: { name: 'tiny', layers: [] } });

function weightsOf(value: number): ModelWeights {
  return tinyDelta(value, 0.5);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isHubError(error)) return error.code;
    throw error;
  }
  return 'ok';
}

async function registryWithChain(): Promise<{ registry: ModelRegistry; inject: Awaited<ReturnType<typeof startTestHub>>['api']; ids: string[]; modelId: string }> {
  const testHub = await startTestHub({ listen: false });
  const registry = testHub.hub.models;
  const { model, version } = await registry.create({
    name: 'chain', architecture: 'imported', inputShape: [4], numClasses: 3, source: 'import',
    content: { topologyJson: TOPOLOGY, weights: weightsOf(0) },
  });
  const ids = [version.id];
  for (let r = 1; r <= 3; r++) {
    const v = await registry.addRoundVersion({
      modelId: model.id, parentVersionId: ids[ids.length - 1]!, roundId: `round-${r}`, campaignId: 'campaign-1',
      weights: weightsOf(r), metrics: { round: r },
    });
    ids.push(v!.id);
  }
  return { registry, inject: testHub.api, ids, modelId: model.id };
}

describe('model registry', () => {
  it('numbers versions and records lineage: parent, producing round and campaign, source, metrics', async () => {
    const { registry, ids, modelId } = await registryWithChain();
    const versions = registry.listVersions(modelId);
    expect(versions.map((v) => [v.version, v.parentVersionId, v.roundId, v.campaignId, v.source])).toEqual([
      [1, null, null, null, 'import'],
      [2, ids[0], 'round-1', 'campaign-1', 'round'],
      [3, ids[1], 'round-2', 'campaign-1', 'round'],
      [4, ids[2], 'round-3', 'campaign-1', 'round'],
    ]);
    expect(versions[2]!.metrics).toEqual({ round: 2 });
    expect(registry.getModel(modelId)).toMatchObject({ latestVersion: 4, latestVersionId: ids[3], paramCount: 15 });
    expect(registry.getModel('chain').id).toBe(modelId);
    // Each version keeps its own weights (the topology is the parent's).
    const third = await registry.loadContent(ids[2]!);
    expect(Array.from(third.weights[1]!.data)).toEqual(Array.from(weightsOf(2)[1]!.data));
    expect(third.topologyJson).toBe(TOPOLOGY);
    expect(registry.updateMetrics(ids[2]!, { accuracy: 0.5 }).metrics).toEqual({ round: 2, accuracy: 0.5 });
  });

  it('registers one version per round, however often the round asks', async () => {
    const { registry, ids, modelId } = await registryWithChain();
    const again = await registry.addRoundVersion({
      modelId, parentVersionId: ids[1]!, roundId: 'round-2', campaignId: 'campaign-1', weights: weightsOf(99),
    });
    expect(again!.id).toBe(ids[2]);
    expect(registry.listVersions(modelId)).toHaveLength(4);
  });

  it('registers nothing when the caller\'s condition no longer holds at insert time', async () => {
    const { registry, ids, modelId } = await registryWithChain();
    let checked = 0;
    const none = await registry.addRoundVersion({
      modelId, parentVersionId: ids[3]!, roundId: 'round-4', weights: weightsOf(4), onlyIf: () => (checked++, false),
    });
    expect(none).toBeUndefined();
    expect(checked).toBe(1);
    expect(registry.listVersions(modelId)).toHaveLength(4);
    const yes = await registry.addRoundVersion({ modelId, parentVersionId: ids[3]!, roundId: 'round-4', weights: weightsOf(4), onlyIf: () => true });
    expect(yes!.version).toBe(5);
  });

  it('resolves a version by number, numeric string, id or "latest" — only within its own model', async () => {
    const { registry, ids, modelId } = await registryWithChain();
    expect(registry.resolveVersion(modelId, 2).id).toBe(ids[1]);
    expect(registry.resolveVersion('chain', '3').id).toBe(ids[2]);
    expect(registry.resolveVersion(modelId, ids[0]!).version).toBe(1);
    expect(registry.resolveVersion(modelId, 'latest').id).toBe(ids[3]);
    expect(codeOf(() => registry.resolveVersion(modelId, 5))).toBe('HUB_ERR_VERSION_NOT_FOUND');
    expect(codeOf(() => registry.resolveVersion(modelId, 0))).toBe('HUB_ERR_VERSION_NOT_FOUND');
    expect(codeOf(() => registry.resolveVersion(modelId, 'no-such-id'))).toBe('HUB_ERR_VERSION_NOT_FOUND');
    expect(codeOf(() => registry.resolveVersion('no-such-model', 1))).toBe('HUB_ERR_MODEL_NOT_FOUND');

    const other = await registry.create({
      name: 'other', architecture: 'imported', inputShape: [4], numClasses: 3, source: 'import',
      content: { topologyJson: TOPOLOGY, weights: weightsOf(7) },
    });
    expect(codeOf(() => registry.resolveVersion(other.model.id, ids[1]!))).toBe('HUB_ERR_VERSION_NOT_FOUND');
    expect(registry.resolveVersion('other', 'latest').id).toBe(other.version.id);
  });

  it('serves lineage and artifacts over the API', async () => {
    const { inject, ids, modelId } = await registryWithChain();
    const latest = await inject<{ version: number; lineage: { id: string; version: number; roundId: string | null }[] }>('GET', `/v1/models/chain/versions/latest`);
    expect(latest.status).toBe(200);
    expect(latest.body.version).toBe(4);
    expect(latest.body.lineage).toEqual([
      { id: ids[2], version: 3, roundId: 'round-2' },
      { id: ids[1], version: 2, roundId: 'round-1' },
      { id: ids[0], version: 1, roundId: null },
    ]);
    expect((await inject<{ lineage: unknown[] }>('GET', `/v1/models/${modelId}/versions/1`)).body.lineage).toEqual([]);
    expect((await inject<{ id: string }>('GET', `/v1/models/${modelId}/versions/${ids[1]}`)).body.id).toBe(ids[1]);
    const missing = await inject<{ error: { code: string } }>('GET', `/v1/models/${modelId}/versions/9`);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'HUB_ERR_VERSION_NOT_FOUND']);
    const noModel = await inject<{ error: { code: string } }>('GET', '/v1/models/nope/versions');
    expect([noModel.status, noModel.body.error.code]).toEqual([404, 'HUB_ERR_MODEL_NOT_FOUND']);
    const detail = await inject<{ versions: { version: number }[] }>('GET', '/v1/models/chain');
    expect(detail.body.versions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
  });

  it('downloads a version as fp32, fp16 or int8 ModelBlob', async () => {
    const testHub = await startTestHub({ listen: false });
    const registry = testHub.hub.models;
    const { model } = await registry.create({
      name: 'blob', architecture: 'imported', inputShape: [4], numClasses: 3, source: 'import',
      content: { topologyJson: TOPOLOGY, weights: weightsOf(0.25) },
    });
    const original = weightsOf(0.25);
    // Largest error per value: none, fp16's half ulp (relative 2^-11), int8's half step (max |w| / 127 / 2).
    const bound = { fp32: () => 0, fp16: (w: number) => Math.abs(w) * 2 ** -11, int8: (_w: number, max: number) => max / 254 + 1e-7 };
    for (const encoding of ['fp32', 'fp16', 'int8'] as const) {
      const response = await testHub.hub.inject({ method: 'GET', url: `/v1/models/${model.id}/versions/1/artifact?encoding=${encoding}`, headers: { authorization: `Bearer ${testHub.config.adminToken}` } });
      expect(response.statusCode).toBe(200);
      const blob = decodeModelBlob(new Uint8Array(response.rawPayload));
      expect(blob.topologyJson).toBe(TOPOLOGY);
      blob.weights.forEach((w, t) => {
        const want = original[t]!.data;
        const max = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        w.data.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(bound[encoding](want[i]!, max)));
      });
    }
  });
});
