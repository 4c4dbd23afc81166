/** A device downloading a whole artifact over fetch/chunk (DESIGN section 2), as an agent does, for tests. */
import type { MqttClient } from 'mqtt';
import { decodeEnvelope, deviceTopic, encodeEnvelope } from '@fedfleet/proto';

/** Fetches every chunk of `sha256` in turn and returns the joined bytes; rejects on a chunk error code. */
export async function fetchArtifact(client: MqttClient, deviceId: string, sha256: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  await client.subscribeAsync(deviceTopic(deviceId, 'chunk'), { qos: 1 });
  for (let index = 0, total = 1; index < total; index++) {
    const requestId = `fetch-${index}`;
    const answer = new Promise<{ data?: Uint8Array | null; totalChunks?: number | null; errorCode?: string | null }>((resolve) => {
      const onMessage = (_topic: string, payload: Buffer) => {
        const chunk = decodeEnvelope(payload, { deviceId, topicKind: 'chunk' }).chunk!;
        if (chunk.requestId !== requestId) return;
        client.off('message', onMessage);
        resolve(chunk);
      };
      client.on('message', onMessage);
    });
    await client.publishAsync(deviceTopic(deviceId, 'fetch'), Buffer.from(encodeEnvelope({ deviceId, chunkRequest: { sha256, index, requestId } })), { qos: 1 });
    const chunk = await answer;
    if (chunk.errorCode) throw new Error(`chunk ${index} of ${sha256}: ${chunk.errorCode}`);
    total = chunk.totalChunks ?? 1;
    parts.push(Buffer.from(chunk.data ?? new Uint8Array(0)));
  }
  return Buffer.concat(parts);
}
