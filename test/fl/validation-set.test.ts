/**
 * Hub-side evaluation (DESIGN §4): an operator uploads a validation set, a campaign names it, and every committed
 * version carries its accuracy on it — the same figure the agent's evaluation code computes on that version.
 */
import { describe, expect, it } from 'vitest';
import { decodeModelBlob, encodeFloat32Le } from '@fedfleet/proto';
import { evaluate, mnistGlobal, subsetDataset } from '@fedfleet/agent/ml';
import { runCli, type CliRun } from '../../hub/test/helpers/cli.js';
import type { CampaignDetailJson } from '../../hub/src/rounds/schemas.js';
import { TEST_ADMIN_TOKEN } from '../../hub/test/helpers/test-hub.js';
import { FAST_TRAINING, startAgents, startCampaign, startFlHub, waitForCampaign, type FlHub } from './fl-harness.js';

interface ErrorBody { error: { code: string; message: string } }
interface Dataset { id: string; name: string; examples: number; inputShape: number[]; numClasses: number; sha256: string }

function upload(hub: FlHub, body: Record<string, unknown>) {
  return hub.api<Dataset & ErrorBody>('POST', '/v1/datasets', body);
}

function encode(x: Float32Array, y: Uint8Array) {
  return { xBase64: Buffer.from(encodeFloat32Le(x)).toString('base64'), yBase64: Buffer.from(y).toString('base64') };
}

function cli(hub: FlHub, args: string[]): Promise<CliRun> {
  return runCli(args, { env: { FEDFLEET_HUB: hub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
}

describe('validation sets and hub-side evaluation', () => {
  it('checks uploads: shape, labels, finite values, unique names; lists and shows them', async () => {
    const hub = await startFlHub({ listen: false });
    const x = new Float32Array([0, 0.5, 1, 0.25, 0.75, 1]);
    const good = { name: 'tiny', inputShape: [3], numClasses: 2, ...encode(x, new Uint8Array([0, 1])) };
    const created = await upload(hub, good);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'tiny', examples: 2, inputShape: [3], numClasses: 2, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const cases: [string, Record<string, unknown>, number, string, RegExp?][] = [
      ['same name', {}, 409, 'HUB_ERR_DATASET_EXISTS'],
      ['ragged features', { name: 'a', xBase64: Buffer.alloc(10).toString('base64') }, 400, 'HUB_ERR_DATASET_INVALID', /not a positive multiple of 12/],
      ['label count', { name: 'b', yBase64: Buffer.from([0]).toString('base64') }, 400, 'HUB_ERR_DATASET_INVALID', /2 examples but y has 1 labels/],
      ['label out of range', { name: 'c', yBase64: Buffer.from([0, 2]).toString('base64') }, 400, 'HUB_ERR_DATASET_INVALID', /label 1 is 2/],
      ['NaN', { name: 'd', ...encode(new Float32Array([0, Number.NaN, 1, 0, 0, 0]), new Uint8Array([0, 1])) }, 400, 'HUB_ERR_DATASET_INVALID', /x value 1 is not finite/],
      ['one class', { name: 'e', numClasses: 1 }, 400, 'HUB_ERR_VALIDATION'],
    ];
    for (const [what, patch, status, code, message] of cases) {
      const response = await upload(hub, { ...good, ...patch });
      expect([what, response.status, response.body.error?.code]).toEqual([what, status, code]);
      if (message) expect(response.body.error.message).toMatch(message);
    }
    expect((await hub.api<Dataset[]>('GET', '/v1/datasets')).body.map((d) => d.name)).toEqual(['tiny']);
    expect((await hub.api<Dataset>('GET', '/v1/datasets/tiny')).body.id).toBe(created.body.id);
    expect((await hub.api<ErrorBody>('GET', '/v1/datasets/nope')).body.error.code).toBe('HUB_ERR_DATASET_NOT_FOUND');
    const audit = await hub.api<{ action: string; target: string }[]>('GET', '/v1/audit?action=dataset.created');
    expect(audit.body.map((a) => a.target)).toEqual([created.body.id]);

    // A campaign refuses a validation set that does not exist or does not fit its model.
    const unknown = await hub.api<ErrorBody>('POST', '/v1/rounds', { model: 'digits', clients: 2, validationSet: 'nope' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'HUB_ERR_DATASET_NOT_FOUND']);
    const misfit = await hub.api<ErrorBody>('POST', '/v1/rounds', { model: 'digits', clients: 2, validationSet: 'tiny' });
    expect([misfit.status, misfit.body.error.code]).toEqual([400, 'HUB_ERR_ROUND_BAD_CONFIG']);
    expect(misfit.body.error.message).toMatch(/validation set tiny \(\[3\], 2 classes\) does not fit model digits/);
  });

  it('every committed version carries its accuracy on the validation set, equal to the agent-side evaluation', async () => {
    const hub = await startFlHub();
    await startAgents(hub, [0, 1, 2].map((i) => ({ name: `pi-${i}`, data: { index: i, of: 3 } })));
    const { test } = mnistGlobal();
    const data = subsetDataset(test, Array.from({ length: 400 }, (_, i) => i));
    const dataset = await upload(hub, { name: 'digits-400', inputShape: data.inputShape, numClasses: data.numClasses, ...encode(data.x, data.y) });
    expect(dataset.body.examples).toBe(400);

    const campaign = await startCampaign(hub.api, {
      model: 'digits', rounds: 2, clients: 3, deadlineSec: 30, validationSet: 'digits-400', seed: 4, ...FAST_TRAINING,
    });
    expect(campaign.config.validationSetId).toBe(dataset.body.id);
    const done = await waitForCampaign(hub.api, campaign.id, (c) => c.state !== 'running', 45_000, 'campaign end');
    expect(done.state).toBe('completed');
    expect(done.hubAccuracy).toHaveLength(2);
    for (const round of done.rounds) {
      expect(round.hubAccuracy).toEqual(expect.any(Number));
      const response = await hub.hub.inject({
        method: 'GET', url: `/v1/models/${hub.modelId}/versions/${round.resultVersionId}/artifact`, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      const artifact = decodeModelBlob(new Uint8Array(response.rawPayload));
      const expected = await evaluate({ topologyJson: artifact.topologyJson, weights: artifact.weights, data });
      expect(round.hubAccuracy).toBeCloseTo(expected.accuracy, 6);
      expect(round.hubLoss).toBeCloseTo(expected.loss, 5);
      const version = await hub.api<{ metrics: Record<string, unknown> }>('GET', `/v1/models/${hub.modelId}/versions/${round.resultVersionId}`);
      expect(version.body.metrics).toMatchObject({ hubAccuracy: round.hubAccuracy, validationSetId: dataset.body.id });
    }
  }, 60_000);

  it('fedfleet datasets upload mnist:test, ls, show, and rounds start --validation-set', async () => {
    const hub = await startFlHub();
    await startAgents(hub, [0, 1].map((i) => ({ name: `pi-${i}`, data: { index: i, of: 2 } })));
    const uploaded = await cli(hub, ['datasets', 'upload', 'mnist:test', '--name', 'mnist-test']);
    expect([uploaded.code, uploaded.stderr]).toEqual([0, '']);
    expect(uploaded.stdout.trim()).toMatch(/^data set mnist-test \(\S+\): 2000 examples of \[28,28,1\], 10 classes$/);
    const listed = JSON.parse((await cli(hub, ['datasets', 'ls', '--json'])).stdout) as Dataset[];
    expect(listed.map((d) => [d.name, d.examples])).toEqual([['mnist-test', 2000]]);
    expect((await cli(hub, ['datasets', 'show', 'mnist-test'])).stdout).toMatch(/examples +2000/);
    const missing = await cli(hub, ['datasets', 'upload', '/no/such/folder', '--name', 'x']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/^error HUB_ERR_DATASET_INVALID: \/no\/such\/folder: /)]);

    const run = await cli(hub, ['rounds', 'start', '--model', 'digits', '--rounds', '1', '--clients', '2', '--validation-set', 'mnist-test',
      '--epochs', '1', '--batch', '20', '--lr', '0.1', '--max-examples', '60', '--poll-ms', '100']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^round 1\/1: accuracy \d+\.\d\d%  loss \S+  validation \d+\.\d\d%  updates 2\/2/m);
    const [, id] = /^campaign (\S+):/.exec(run.stdout)!;
    expect((await cli(hub, ['rounds', 'show', id!])).stdout).toMatch(/^ROUND +STATE +SELECTED +UPDATES +ACCURACY +VALIDATION/m);
    const detail = (await hub.api<CampaignDetailJson>('GET', `/v1/rounds/${id}`)).body;
    expect(detail.rounds[0]!.hubAccuracy).toBeGreaterThan(0.1);
  }, 60_000);
});
