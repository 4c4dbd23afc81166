import { createHash, randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, deviceTopic, encodeEnvelope, type fedfleet } from '@fedfleet/proto';
import { clampChunkSize } from '../src/broker/handlers/fetch.js';
import { sendArtifactCommand } from './helpers/chunked-fetch.js';
import { connectDevice, enrollDevice, waitFor } from './helpers/devices.js';
import { startTestHub } from './helpers/test-hub.js';

type Chunk = fedfleet.v1.IChunk;

/** A device-side fetcher: one request per chunk, answers matched by requestId. */
async function openFetcher(client: MqttClient, deviceId: string) {
  const waiting = new Map<string, (chunk: Chunk) => void>();
  client.on('message', (_topic, payload) => {
    const chunk = decodeEnvelope(payload, { deviceId, topicKind: 'chunk' }).chunk!;
    waiting.get(chunk.requestId!)?.(chunk);
  });
  await client.subscribeAsync(deviceTopic(deviceId, 'chunk'), { qos: 1 });
  let next = 0;
  return (sha256: string, index: number, chunkSize = 0) =>
    new Promise<Chunk>((resolve) => {
      const requestId = `r${next++}`;
      waiting.set(requestId, resolve);
      void client.publishAsync(
        deviceTopic(deviceId, 'fetch'),
        Buffer.from(encodeEnvelope({ deviceId, chunkRequest: { sha256, index, chunkSize, requestId } })),
        { qos: 1 },
      ).catch(() => {}); // the PUBACK may still be in flight when the test ends
    });
}

describe('artifact download over fetch/chunk', () => {
  it('serves a registered artifact in chunks that reassemble to the same sha256', async () => {
    const testHub = await startTestHub();
    const bytes = randomBytes(150_000);
    const { sha256, sizeBytes } = await testHub.hub.store.blobs.put(bytes, 'application/octet-stream');
    expect(sizeBytes).toBe(150_000);
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    const fetchChunk = await openFetcher(client, device.deviceId);
    await sendArtifactCommand(testHub.hub, device.deviceId, sha256);

    const first = await fetchChunk(sha256, 0, 64 * 1024);
    expect(first).toMatchObject({ sha256, index: 0, totalChunks: 3, totalBytes: 150_000 });
    expect(first.errorCode ?? '').toBe('');
    const parts = [first.data!];
    for (let index = 1; index < first.totalChunks!; index++) parts.push((await fetchChunk(sha256, index, 64 * 1024)).data!);
    const joined = Buffer.concat(parts.map((p) => Buffer.from(p)));
    expect(createHash('sha256').update(joined).digest('hex')).toBe(sha256);
    await waitFor(() => testHub.hub.transfers.bytesSent(device.deviceId) === 150_000);
    const metrics = (await testHub.hub.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('fedfleet_artifact_bytes_sent_total 150000');
  });

  it('answers unknown artifacts and out-of-range chunks with an error code', async () => {
    const testHub = await startTestHub();
    const { sha256 } = await testHub.hub.store.blobs.put(Buffer.from('tiny'), 'text/plain');
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    const fetchChunk = await openFetcher(client, device.deviceId);
    await sendArtifactCommand(testHub.hub, device.deviceId, sha256);
    expect((await fetchChunk('0'.repeat(64), 0)).errorCode).toBe('HUB_ERR_ARTIFACT_NOT_FOUND');
    expect((await fetchChunk('not-a-sha', 0)).errorCode).toBe('HUB_ERR_ARTIFACT_NOT_FOUND');
    const beyond = await fetchChunk(sha256, 1);
    expect(beyond).toMatchObject({ errorCode: 'HUB_ERR_CHUNK_OUT_OF_RANGE', totalChunks: 1, totalBytes: 4 });
    const only = await fetchChunk(sha256, 0);
    expect(Buffer.from(only.data!).toString()).toBe('tiny');
  });

  it('clamps chunk sizes to [1 KiB, 256 KiB] and to the envelope limit', () => {
    const max = 4 * 1024 * 1024;
    expect(clampChunkSize(0, max)).toBe(64 * 1024);
    expect(clampChunkSize(10, max)).toBe(1024);
    expect(clampChunkSize(10 * 1024 * 1024, max)).toBe(256 * 1024);
    expect(clampChunkSize(100_000, max)).toBe(100_000);
    expect(clampChunkSize(200_000, 64 * 1024)).toBe(63 * 1024);
  });
});
