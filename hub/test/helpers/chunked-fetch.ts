/** A device downloading an artifact over fetch/chunk (DESIGN section 2), as an agent does, for tests. */
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { decodeEnvelope, deviceTopic, encodeEnvelope, type ChunkProps } from '@fedfleet/proto';
import type { Hub } from '../../src/build-hub.js';

/**
 * Makes `sha256` fetchable by the device the way the hub does for every artifact it serves: by sending the device a
 * command that names it through the commands capability (owner `test`, nobody handles its replies). The command is
 * a DeployModel pointing at the artifact; settle it (`hub.commands.settle(commandId)`) to revoke the grant.
 */
export async function sendArtifactCommand(hub: Hub, deviceId: string, sha256: string): Promise<string> {
  const commandId = randomUUID();
  await hub.commands.send({ owner: 'test', key: 'artifact', deviceId, command: { commandId, deploy: { model: { sha256 } } } });
  return commandId;
}

let nextRequest = 0;

/** Asks for one chunk and waits for its answer (matched by requestId); resolves with the Chunk, error code or not. */
export async function requestChunk(client: MqttClient, deviceId: string, sha256: string, index: number, chunkSize = 0): Promise<ChunkProps> {
  await client.subscribeAsync(deviceTopic(deviceId, 'chunk'), { qos: 1 });
  const requestId = `fetch-${nextRequest++}`;
  const answer = new Promise<ChunkProps>((resolve) => {
    const onMessage = (topic: string, payload: Buffer) => {
      if (!topic.endsWith('/chunk')) return;
      const chunk = decodeEnvelope(payload, { deviceId, topicKind: 'chunk' }).chunk!;
      if (chunk.requestId !== requestId) return;
      client.off('message', onMessage);
      resolve(chunk);
    };
    client.on('message', onMessage);
  });
  await client.publishAsync(deviceTopic(deviceId, 'fetch'), Buffer.from(encodeEnvelope({ deviceId, chunkRequest: { sha256, index, chunkSize, requestId } })), { qos: 1 });
  return answer;
}

/** Fetches every chunk of `sha256` from chunk `from` on and returns the joined bytes; rejects on a chunk error code. */
export async function fetchArtifact(client: MqttClient, deviceId: string, sha256: string, options: { chunkSize?: number; from?: number } = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let index = options.from ?? 0, total = index + 1; index < total; index++) {
    const chunk = await requestChunk(client, deviceId, sha256, index, options.chunkSize);
    if (chunk.errorCode) throw new Error(`chunk ${index} of ${sha256}: ${chunk.errorCode}`);
    total = chunk.totalChunks ?? 1;
    parts.push(Buffer.from(chunk.data ?? new Uint8Array(0)));
  }
  return Buffer.concat(parts);
}
