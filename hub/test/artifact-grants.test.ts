/**
 * A device downloads only the artifacts the hub sent it (proto/docs/mqtt-topics.md#who-may-fetch-what), over real
 * MQTT: the devices a rollout or a round sends a command to may fetch the artifact it names, any other device is
 * answered exactly as for an unknown artifact (counted, logged once). Grants live in SQLite, so a download resumes
 * across a hub restart, and they end with the command (the rollout aborted, the update received).
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import type { ChunkProps } from '@fedfleet/proto';
import { createManualClock } from '../src/clock.js';
import { createLogger } from '../src/logger.js';
import { sha256Hex } from '../src/store/blobs.js';
import { fetchArtifact, requestChunk, sendArtifactCommand } from './helpers/chunked-fetch.js';
import { connectDevice, enrollDevice, waitFor } from './helpers/devices.js';
import { addTinyVersion, createRollout, scriptedDevice, targetOf, waitForRollout } from './helpers/rollout-devices.js';
import { startTestHub, tempDataDir } from './helpers/test-hub.js';
import { startCampaign, startRoundHub, tinyDelta } from './rounds/round-helpers.js';

const NOT_FOUND = 'HUB_ERR_ARTIFACT_NOT_FOUND';

/** What a device learns from an answer (all but the echoed sha256 and request id). */
function shapeOf(chunk: ChunkProps) {
  return { errorCode: chunk.errorCode, totalChunks: chunk.totalChunks, totalBytes: String(chunk.totalBytes), dataBytes: chunk.data?.length ?? 0 };
}

/** A hub with v2 of the tiny model, a `lab` device whose deploy stays in DOWNLOADING, a `field` device, and a rollout to `group=lab`. */
async function rolloutToLab(options: Parameters<typeof startRoundHub>[0] = {}) {
  const setup = await startRoundHub({ clock: createManualClock(), ...options });
  const { api, model, testHub } = setup;
  await addTinyVersion(testHub.hub, model.modelId, model.versionId);
  const lab = await scriptedDevice(setup, 'lab-1', model.modelId, { active: model.versionId, labels: { group: 'lab' }, script: { deploy: 'stuck' } });
  const field = await scriptedDevice(setup, 'field-1', model.modelId, { active: model.versionId, labels: { group: 'field' } });
  await setup.online([lab.deviceId, field.deviceId]);
  const rollout = await createRollout(api, { model: 'tiny', version: 2, selector: 'group=lab', waves: [{ percent: 100 }] });
  await waitForRollout(api, rollout.id, (r) => targetOf(r, lab)?.state === 'downloading', 'lab device downloading');
  const sha256 = rollout.bundleSha256;
  expect(lab.received.find((c) => c.deploy)?.deploy?.model?.sha256).toBe(sha256);
  const clientOf = (device: { raw: { client: MqttClient | undefined } }) => device.raw.client!;
  return { ...setup, lab, field, rollout, sha256, clientOf };
}

describe('who may fetch what', () => {
  it('a rollout to one group: its device fetches the payload, a device of another group is answered as for an unknown artifact', async () => {
    const lines: { msg: string; deviceId?: string; refused?: number }[] = [];
    const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const { testHub, api, lab, field, rollout, sha256, clientOf } = await rolloutToLab({ logger });

    const refused = await requestChunk(clientOf(field), field.deviceId, sha256, 0);
    const unknown = await requestChunk(clientOf(field), field.deviceId, 'f'.repeat(64), 0);
    expect(shapeOf(refused)).toEqual({ errorCode: NOT_FOUND, totalChunks: 0, totalBytes: '0', dataBytes: 0 });
    expect(shapeOf(refused)).toEqual(shapeOf(unknown));
    expect(sha256Hex(await fetchArtifact(clientOf(lab), lab.deviceId, sha256))).toBe(sha256);

    // Every refused request is counted; the log gets one line per device, not one per request.
    for (let index = 0; index < 5; index++) expect((await requestChunk(clientOf(field), field.deviceId, sha256, index)).errorCode).toBe(NOT_FOUND);
    const metrics = (await testHub.hub.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('fedfleet_artifact_fetch_denied_total 7');
    expect(lines.filter((l) => l.msg.startsWith('artifact fetch refused'))).toEqual([expect.objectContaining({ deviceId: field.deviceId, refused: 1 })]);

    // The rollout ends: the grant went with its command.
    expect((await api('POST', `/v1/rollouts/${rollout.id}/abort`, {})).status).toBe(200);
    await waitFor(() => !testHub.hub.store.grants.allows(lab.deviceId, sha256), 5000, 'grant revoked');
    expect((await requestChunk(clientOf(lab), lab.deviceId, sha256, 0)).errorCode).toBe(NOT_FOUND);
  });

  it('a round: the selected device fetches the global model, a device not selected does not; its update ends the grant', async () => {
    const { api, enroll, online, testHub } = await startRoundHub();
    const chosen = await enroll('chosen', { labels: { group: 'lab' } });
    const other = await enroll('other', { labels: { group: 'field' } });
    await online([chosen.deviceId, other.deviceId]);
    await startCampaign(api, { model: 'tiny', rounds: 1, clients: 1, overSelect: 1, minClients: 1, deadlineSec: 30, evaluate: false, selector: 'group=lab' });
    const task = await chosen.trainTask();
    const sha256 = chosen.commands.find((c) => c.train)!.train!.baseModel!.sha256!;

    expect((await requestChunk(other.client!, other.deviceId, sha256, 0)).errorCode).toBe(NOT_FOUND);
    expect(sha256Hex(await fetchArtifact(chosen.client!, chosen.deviceId, sha256))).toBe(sha256);
    await chosen.sendUpdate(chosen.update(task, tinyDelta(0.01), 10));
    await waitFor(() => !testHub.hub.store.grants.allows(chosen.deviceId, sha256), 5000, 'grant revoked');
  });

  it('a grant survives a hub restart: the device resumes its download where it stopped, others are still refused', async () => {
    const dataDir = tempDataDir();
    const testHub = await startTestHub({ dataDir, clock: createManualClock() });
    const { sha256 } = await testHub.hub.store.blobs.put(randomBytes(5000), 'application/octet-stream');
    const [granted, other] = [await enrollDevice(testHub, { name: 'granted' }), await enrollDevice(testHub, { name: 'other' })];
    await sendArtifactCommand(testHub.hub, granted.deviceId, sha256);
    const first = await requestChunk(await connectDevice(testHub, granted), granted.deviceId, sha256, 0, 1024);
    expect(first.totalChunks).toBe(5);
    await testHub.hub.close();

    const restarted = await startTestHub({ dataDir, clock: createManualClock() });
    const rest = await fetchArtifact(await connectDevice(restarted, granted), granted.deviceId, sha256, { chunkSize: 1024, from: 1 });
    expect(sha256Hex(Buffer.concat([Buffer.from(first.data!), rest]))).toBe(sha256);
    expect((await requestChunk(await connectDevice(restarted, other), other.deviceId, sha256, 0)).errorCode).toBe(NOT_FOUND);
  });
});
