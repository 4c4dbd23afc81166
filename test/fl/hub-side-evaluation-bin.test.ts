/**
 * Hub-side evaluation in the real `fedfleet hub` process (hub/bin/fedfleet.mjs, TypeScript through tsx's register()):
 * the evaluation worker thread starts under that loader, on the wasm backend, and a committed round carries the
 * same figures as the agent's own evaluate() of its version.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { decodeModelBlob, encodeFloat32Le } from '@fedfleet/proto';
import { evaluate, initBackend } from '@fedfleet/agent/ml';
import {
  RawDevice, createToken, importTinyModel, startCampaign, tinyDelta, waitForCampaign, type Api,
} from '../../hub/test/rounds/round-helpers.js';
import { startHubProcess } from '../support/hub-process.js';

/** 30 examples of 4 features and 3 classes, for the tiny imported model (dense 4 → 3). */
function validationSet() {
  const x = new Float32Array(30 * 4).map((_, i) => ((i * 37) % 11) / 10 - 0.5);
  const y = Uint8Array.from({ length: 30 }, (_, i) => i % 3);
  return { x, y, count: 30, inputShape: [4], numClasses: 3 };
}

describe('hub-side evaluation in the fedfleet hub process', () => {
  it('runs in a wasm worker thread started under the bin\'s loader and equals the agent\'s evaluate()', async () => {
    const hub = await startHubProcess({ logLevel: 'info' });
    onTestFinished(() => hub.stop());
    const headers = { authorization: `Bearer ${hub.adminToken}` };
    const api: Api = async (method, url, body) => {
      const response = await fetch(`${hub.httpUrl}${url}`, {
        method, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as never };
    };

    const model = await importTinyModel(api);
    const data = validationSet();
    const uploaded = await api('POST', '/v1/datasets', {
      name: 'v30', inputShape: data.inputShape, numClasses: data.numClasses,
      xBase64: Buffer.from(encodeFloat32Le(data.x)).toString('base64'), yBase64: Buffer.from(data.y).toString('base64'),
    });
    expect(uploaded.status).toBe(201);
    const device = await RawDevice.enroll(api, hub.mqttUrl, { name: 'd1', token: await createToken(api) });
    await device.connect();

    const campaign = await startCampaign(api, {
      model: 'tiny', rounds: 1, clients: 1, minClients: 1, overSelect: 1, evaluate: false, validationSet: 'v30', deadlineSec: 60,
    });
    const task = await device.trainTask(undefined, 15_000);
    await device.sendUpdate(device.update(task, tinyDelta(0.05, 0.001), 10));
    const done = await waitForCampaign(api, campaign.id, (c) => c.state !== 'running', 45_000, 'campaign end');
    expect(done.state).toBe('completed');
    const round = done.rounds[0]!;

    const [started] = await hub.child.waitForLine(/^\{.*"msg":"evaluation worker started".*\}$/, 1000);
    expect(JSON.parse(started)).toMatchObject({ component: 'evaluator', backend: 'wasm' });

    const artifact = await fetch(`${hub.httpUrl}/v1/models/${model.modelId}/versions/${round.resultVersionId}/artifact`, { headers });
    const blob = decodeModelBlob(new Uint8Array(await artifact.arrayBuffer()));
    await initBackend('wasm');
    const expected = await evaluate({ topologyJson: blob.topologyJson, weights: blob.weights, data });
    expect(round.hubAccuracy).toBe(expected.accuracy);
    expect(round.hubLoss).toBe(expected.loss);
  }, 90_000);
});
