/**
 * A campaign that quantizes its final version (issue 9 item 2: "a campaign can run [calibration] after its last
 * round"): the job starts once the campaign completed, is recorded on the campaign and audited as `campaign`; what
 * would refuse the job is refused when the campaign is created; a job that cannot start leaves the campaign completed
 * with the code recorded; a record still pending when the hub stopped is started by the next hub.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { HubEventMap } from '../../src/events/hub-events.js';
import { storedQuantizeProblems } from '../../src/rounds/campaign-quantize.js';
import type { CampaignDetailJson } from '../../src/rounds/schemas.js';
import { runCli } from '../helpers/cli.js';
import { uploadDataset } from '../helpers/datasets.js';
import { startTestHub, tempDataDir, TEST_ADMIN_TOKEN } from '../helpers/test-hub.js';
import {
  getCampaign, saveTfjsModel, startCampaign, startRoundHub, tinyDelta, waitForCampaign, type Api, type RawDevice,
} from '../rounds/round-helpers.js';
import { finished, partition } from './quantize-helpers.js';

interface AuditJson { actor: string; action: string; target: string | null; details: Record<string, unknown> }

/** Uploads `count` seeded examples of `width` values as data set `name` (3 classes). */
function uploadSineDataset(api: Api, name: string, width = 4, count = 12): Promise<void> {
  const x = new Float32Array(count * width).map((_, i) => Math.sin(i));
  return uploadDataset(api, { name, inputShape: [width], numClasses: 3, x, y: new Uint8Array(count) });
}

const ONE_ROUND = { model: 'tiny', rounds: 1, clients: 1, minClients: 1, overSelect: 1, evaluate: false };

const fedfleet = (args: string[], hubUrl: string) => runCli([...args, '--hub', hubUrl], { env: { FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });

/** One round of the tiny model on one device, answering its train task; `quantize` as given, or started by `start`. */
async function runOneRound(api: Api, device: RawDevice, quantize: Record<string, unknown>, start?: () => Promise<CampaignDetailJson>) {
  const campaign = start ? await start() : await startCampaign(api, { ...ONE_ROUND, quantize });
  const task = await device.trainTask();
  await device.sendUpdate(device.update(task, tinyDelta(0.01), 10));
  return campaign;
}

const settled = (id: string, api: Api) => waitForCampaign(
  api, id, (c) => c.state === 'completed' && c.quantization !== undefined && c.quantization.state !== 'pending', 5000, 'quantization recorded',
);

const audit = async (api: Api, action: string) => (await api<AuditJson[]>('GET', `/v1/audit?action=${action}`)).body;

describe('a campaign that quantizes its final version', () => {
  it('starts a job of the final version once it completed: recorded on the campaign, announced, audited as campaign, done', async () => {
    const { testHub, api, model, enroll, online } = await startRoundHub();
    await uploadSineDataset(api, 'calib');
    const device = await enroll('a');
    await online([device.deviceId]);
    const started: HubEventMap['campaign.quantization-started'][] = [];
    testHub.hub.events.on('campaign.quantization-started', (e) => started.push(e));

    // --quantize-percentile alone is a usage error, before any request.
    expect((await fedfleet(['rounds', 'start', '--model', 'tiny', '--quantize-percentile', '99'], testHub.httpUrl)).stderr).toMatch(/--quantize-percentile goes with --quantize/);
    const campaign = await runOneRound(api, device, {}, async () => {
      const run = await fedfleet(['rounds', 'start', '--model', 'tiny', '--rounds', '1', '--clients', '1', '--min-clients', '1', '--over-select', '1',
        '--no-eval', '--quantize', 'dataset:calib', '--quantize-percentile', '99.5', '--detach', '--json'], testHub.httpUrl);
      expect(run.stderr).toBe('');
      return JSON.parse(run.stdout) as CampaignDetailJson;
    });
    expect(campaign.quantization).toBeUndefined();
    expect(campaign.config.quantize).toMatchObject({ calibrate: 'dataset:calib', selector: '', percentile: 99.5, minDevices: 1, maxDevices: null });

    const done = await settled(campaign.id, api);
    expect(done.currentVersionId).not.toBe(model.versionId);
    expect(done.quantization).toMatchObject({ state: 'started', errorCode: null, error: null });
    const jobId = done.quantization!.jobId!;
    const job = await finished(api, jobId);
    expect(job).toMatchObject({ state: 'done', versionId: done.currentVersionId, version: 2, calibration: 'dataset', datasetName: 'calib', percentile: 99.5 });
    expect(job.artifact?.format).toBe('tflite');
    expect(started).toEqual([{ campaignId: campaign.id, versionId: done.currentVersionId, jobId, at: expect.any(String) }]);
    expect((await audit(api, 'quantization.started')).map((e) => [e.actor, e.target])).toEqual([['campaign', jobId]]);
    expect(await audit(api, 'campaign.quantization-started')).toMatchObject([
      { actor: 'campaign', target: campaign.id, details: { versionId: done.currentVersionId, jobId } },
    ]);
    expect((await fedfleet(['rounds', 'show', campaign.id], testHub.httpUrl)).stdout).toContain(
      `quantization: job ${jobId}; follow it: fedfleet models show tiny --version ${done.currentVersionId}\n`,
    );
  });

  it('refuses at creation, storing nothing, a quantize whose job would be refused', async () => {
    const { api, enroll, online } = await startRoundHub();
    await uploadSineDataset(api, 'wide', 5);
    const tanh = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'tanh' })] });
    const { modelJson, weights } = await saveTfjsModel(tanh);
    tanh.dispose();
    expect((await api('POST', '/v1/models/import', { name: 'tanh', modelJson, weightsBase64: Buffer.from(weights).toString('base64') })).status).toBe(201);
    const device = await enroll('a');
    await online([device.deviceId]);
    const post = (quantize: Record<string, unknown>, model = 'tiny') =>
      api<{ error: { code: string; message: string } }>('POST', '/v1/rounds', { model, rounds: 1, clients: 1, minClients: 1, quantize });

    const missing = await post({ calibrate: 'dataset:missing' });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'HUB_ERR_DATASET_NOT_FOUND']);
    const misfit = await post({ calibrate: 'dataset:wide' });
    expect([misfit.status, misfit.body.error.code]).toEqual([400, 'HUB_ERR_QUANTIZATION_BAD_REQUEST']);
    const unsupported = await post({ calibrate: 'fleet' }, 'tanh');
    expect([unsupported.status, unsupported.body.error.code]).toEqual([422, 'HUB_ERR_EXPORT_UNSUPPORTED']);
    expect(unsupported.body.error.message).toMatch(/tanh/);
    // A built-in architecture no model has yet is judged by its initial model, and not created when refused.
    expect((await post({ calibrate: 'dataset:wide' }, 'mnist-2nn')).body.error.code).toBe('HUB_ERR_QUANTIZATION_BAD_REQUEST');
    expect((await post({ calibrate: 'fleet', selector: '=x' })).body.error.code).toBe('HUB_ERR_BAD_SELECTOR');
    expect((await post({ calibrate: 'fleet', minDevices: 3, maxDevices: 2 })).body.error.code).toBe('HUB_ERR_QUANTIZATION_BAD_REQUEST');
    for (const quantize of [{ calibrate: 'cloud' }, { calibrate: 'fleet', percentile: 10 }, { calibrate: 'fleet', extra: 1 }]) {
      expect((await post(quantize)).body.error.code, JSON.stringify(quantize)).toBe('HUB_ERR_VALIDATION');
    }

    expect((await api('GET', '/v1/rounds')).body).toEqual([]);
    expect((await api<{ name: string }[]>('GET', '/v1/models')).body.map((m) => m.name).sort()).toEqual(['tanh', 'tiny']);
    expect(await audit(api, 'campaign.started')).toEqual([]);
    expect(device.commands).toEqual([]);
  });

  it('a quantization that cannot start leaves the campaign completed with the code recorded', async () => {
    const { testHub, api, enroll, online } = await startRoundHub();
    const device = await enroll('a');
    await online([device.deviceId]);
    const refused: HubEventMap['campaign.quantization-refused'][] = [];
    testHub.hub.events.on('campaign.quantization-refused', (e) => refused.push(e));

    // Two devices must calibrate; the fleet has one.
    const campaign = await runOneRound(api, device, { calibrate: 'fleet', minDevices: 2 });
    const done = await settled(campaign.id, api);
    expect([done.state, done.error, done.roundsDone]).toEqual(['completed', null, 1]);
    expect(done.quantization).toMatchObject({ state: 'refused', jobId: null, errorCode: 'HUB_ERR_QUANTIZATION_NO_DEVICES' });
    expect(refused).toMatchObject([{ campaignId: campaign.id, versionId: done.currentVersionId, errorCode: 'HUB_ERR_QUANTIZATION_NO_DEVICES' }]);
    expect(await audit(api, 'campaign.quantization-refused')).toMatchObject([
      { actor: 'campaign', target: campaign.id, details: { errorCode: 'HUB_ERR_QUANTIZATION_NO_DEVICES' } },
    ]);
    expect(testHub.hub.quantizations.listForVersion(done.currentVersionId)).toEqual([]);
  });

  it('a record still pending when the hub stopped: the next hub starts the job', async () => {
    const dataDir = tempDataDir();
    const first = await startRoundHub({ dataDir });
    await uploadSineDataset(first.api, 'calib');
    const device = await first.enroll('a');
    await first.online([device.deviceId]);
    const campaign = await runOneRound(first.api, device, { calibrate: 'dataset:calib' });
    const firstJob = (await settled(campaign.id, first.api)).quantization!.jobId!;
    await finished(first.api, firstJob);
    // The hub stopped after completing the campaign and before the job's start was recorded.
    first.testHub.hub.store.db.prepare("UPDATE campaigns SET quantization_state = 'pending', quantization_job_id = NULL WHERE id = ?").run(campaign.id);
    await first.testHub.hub.close();

    const second = await startTestHub({ dataDir });
    const api: Api = (method, url, body) => second.api(method, url, body);
    const after = await settled(campaign.id, api);
    expect(after.quantization).toMatchObject({ state: 'started', errorCode: null });
    expect(after.quantization!.jobId).not.toBe(firstJob);
    expect(await finished(api, after.quantization!.jobId!)).toMatchObject({ state: 'done', versionId: after.currentVersionId });
    expect((await getCampaign(api, campaign.id)).state).toBe('completed');
  });
});

describe('a stored campaign quantize', () => {
  it('is usable when absent or complete, and each broken field is named', () => {
    const usable = { calibrate: 'fleet', selector: '', minDevices: 1, maxDevices: null, deadlineSec: 120, percentile: 100, histogramBins: 2048, maxExamplesPerDevice: 0 };
    expect(storedQuantizeProblems(undefined)).toEqual([]);
    expect(storedQuantizeProblems(usable)).toEqual([]);
    expect(storedQuantizeProblems({ ...usable, maxDevices: 4 })).toEqual([]);
    expect(storedQuantizeProblems('fleet')).toEqual(['config.quantize is not an object']);
    expect(storedQuantizeProblems({ ...usable, calibrate: 1, deadlineSec: null, maxDevices: 'all' })).toEqual([
      'config.quantize.calibrate is not a string', 'config.quantize.deadlineSec is not a finite number', 'config.quantize.maxDevices is not a finite number or null',
    ]);
  });
});
