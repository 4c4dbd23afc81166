/** DESIGN §9: a refused `POST /v1/rounds` stores nothing — no campaign, no round, no model created on its behalf. */
import { describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';
import { uploadDataset } from '../helpers/datasets.js';

function counts(testHub: TestHub): Record<string, number> {
  const count = (table: string) => (testHub.hub.store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  return { campaigns: count('campaigns'), rounds: count('rounds'), models: count('models'), model_versions: count('model_versions') };
}

/** A validation set of 2 examples, `inputShape` [2] and 3 classes: it fits none of the built-in architectures. */
async function uploadSmallValidationSet(testHub: TestHub): Promise<void> {
  await uploadDataset(testHub.api, { name: 'small', inputShape: [2], numClasses: 3, x: new Float32Array([0, 1, 1, 0]), y: [0, 2] });
}

describe('a refused campaign stores nothing', () => {
  it('creates no built-in model when the validation set is unknown or does not fit the architecture', async () => {
    const testHub = await startTestHub({ listen: false });
    await uploadSmallValidationSet(testHub);
    const before = counts(testHub);

    const unknown = await testHub.api<{ error: { code: string } }>('POST', '/v1/rounds', { model: 'mnist-2nn', validationSet: 'nope' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'HUB_ERR_DATASET_NOT_FOUND']);
    const misfit = await testHub.api<{ error: { code: string } }>('POST', '/v1/rounds', { model: 'mnist-2nn', validationSet: 'small' });
    expect([misfit.status, misfit.body.error.code]).toEqual([400, 'HUB_ERR_ROUND_BAD_CONFIG']);
    expect(counts(testHub)).toEqual(before);
  });

  it('rolls the campaign and its first round back when anything after them fails', async () => {
    const testHub = await startTestHub({ listen: false });
    expect((await testHub.api('POST', '/v1/models', { name: 'm', architecture: 'mnist-2nn' })).status).toBe(201);
    const before = counts(testHub);
    const { audit } = testHub.hub;
    const record = audit.record.bind(audit);
    audit.record = (entry) => {
      if (entry.action === 'campaign.started') throw new Error('disk full');
      return record(entry);
    };
    const response = await testHub.api<{ error: { code: string } }>('POST', '/v1/rounds', { model: 'm', clients: 1, minClients: 1 });
    expect([response.status, response.body.error.code]).toEqual([500, 'HUB_ERR_INTERNAL']);
    expect(counts(testHub)).toEqual(before);
    audit.record = record;
    expect((await testHub.api('GET', '/v1/rounds')).status).toBe(200);
  });
});
