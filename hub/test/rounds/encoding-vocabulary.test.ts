/**
 * One vocabulary for encodings (fp32 | fp16 | int8, proto/src/encoding.ts) from the HTTP request to the wire and
 * back, with `none` still accepted as a deprecated alias of fp32 — in requests and in campaigns stored before.
 */
import { ModelBlob, TensorEncoding, type CommandProps } from '@fedfleet/proto';
import { describe, expect, it } from 'vitest';
import type { CampaignDetailJson, CampaignJson } from '../../src/rounds/schemas.js';
import { startTestHub } from '../helpers/test-hub.js';
import { startCampaign, startRoundHub, waitFor } from './round-helpers.js';

const { TENSOR_ENCODING_FP32: FP32, TENSOR_ENCODING_INT8: INT8 } = TensorEncoding;
const CAMPAIGN = { model: 'tiny', rounds: 1, clients: 1, minClients: 1, overSelect: 1, selectionTimeoutSec: 3600, deadlineSec: 60, evaluate: false };

describe('encoding vocabulary', () => {
  it('campaign requests take fp32 | fp16 | int8 and the deprecated `none`, stored as fp32', async () => {
    const { api } = await startRoundHub({ listen: false });
    const accepted: [Record<string, unknown>, string, string][] = [
      [{ compression: 'none' }, 'fp32', 'fp32'],
      [{ compression: 'fp32' }, 'fp32', 'fp32'],
      [{}, 'fp32', 'fp32'],
      [{ compression: 'int8', uplink: 'none' }, 'int8', 'fp32'],
      [{ downlink: 'fp16', uplink: 'int8' }, 'fp16', 'int8'],
    ];
    for (const [body, downlink, uplink] of accepted) {
      const response = await api<CampaignDetailJson>('POST', '/v1/rounds', { ...CAMPAIGN, ...body });
      expect([body, response.status, response.body.config.downlink, response.body.config.uplink]).toEqual([body, 201, downlink, uplink]);
      await api('POST', `/v1/rounds/${response.body.id}/cancel`);
    }
    for (const body of [{ compression: 'zip' }, { downlink: 'int4' }, { uplink: 'FP16' }]) {
      const response = await api<{ error: { code: string } }>('POST', '/v1/rounds', { ...CAMPAIGN, ...body });
      expect([body, response.status, response.body.error.code]).toEqual([body, 400, 'HUB_ERR_VALIDATION']);
    }
  });

  it('the same names reach the wire: a device is told the encoding of its download and of its update', async () => {
    const { api, enroll, online } = await startRoundHub();
    const device = await enroll('dev-a');
    await online([device.deviceId]);
    await startCampaign(api, { ...CAMPAIGN, downlink: 'int8', uplink: 'none' });
    const train = await waitFor(async () => device.commands.find((c: CommandProps) => c.train)?.train ?? undefined, 5000, 'train task');
    expect([train.baseModel?.encoding, train.updateEncoding]).toEqual([INT8, FP32]);
  });

  it('versions carry `encoding` (and the deprecated `quantization`); the int8 artifact has per-channel kernels', async () => {
    const { api, httpGet, model } = await startRoundHub({ listen: false });
    const version = await api<{ encoding: string; quantization: string }>('GET', `/v1/models/${model.modelId}/versions/1`);
    expect([version.body.encoding, version.body.quantization]).toEqual(['fp32', 'fp32']);
    const blob = ModelBlob.decode(await httpGet(`/v1/models/${model.modelId}/versions/1/artifact?encoding=int8`));
    expect(blob.weights.map((t) => [t.encoding, t.scales?.length, t.quantizedAxis])).toEqual([[INT8, 3, 1], [INT8, 0, 0]]);
    const refused = await api<{ error: { code: string } }>('GET', `/v1/models/${model.modelId}/versions/1/artifact?encoding=none`);
    expect(refused.status).toBe(400);
  });

  it('a campaign stored with `none` before the one vocabulary resumes as fp32; an unknown encoding is unusable', async () => {
    const first = await startRoundHub();
    const good = await startCampaign(first.api, CAMPAIGN);
    const db = first.testHub.hub.store.db;
    const row = db.prepare('SELECT * FROM campaigns WHERE id = ?').get(good.id) as Record<string, unknown>;
    const config = JSON.parse(row.config as string) as Record<string, unknown>;
    db.prepare('UPDATE campaigns SET config = ? WHERE id = ?').run(JSON.stringify({ ...config, downlink: 'none', uplink: 'none' }), good.id);
    db.prepare(`INSERT INTO campaigns (id, model_id, base_version_id, current_version_id, state, rounds_total, config,
      created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, 'running', 1, ?, ?, ?)`)
      .run('zip', row.model_id, row.base_version_id, row.base_version_id, JSON.stringify({ ...config, downlink: 'zip' }), Date.now(), Date.now());
    await first.testHub.hub.close();

    const testHub = await startTestHub({ dataDir: first.testHub.dataDir });
    const listed = await testHub.api<CampaignJson[]>('GET', '/v1/rounds');
    const byId = new Map(listed.body.map((c) => [c.id, c]));
    expect(byId.get(good.id)?.state).toBe('running');
    expect(byId.get('zip')).toMatchObject({ state: 'failed', errorCode: 'HUB_ERR_CAMPAIGN_UNUSABLE' });
    expect(byId.get('zip')?.error).toContain('config.downlink is not one of fp32, fp16, int8');
    const resumed = await testHub.api<CampaignDetailJson>('GET', `/v1/rounds/${good.id}`);
    expect([resumed.body.config.downlink, resumed.body.config.uplink]).toEqual(['fp32', 'fp32']);
  });
});
