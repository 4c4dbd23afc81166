/**
 * Messages the hub keeps for a device's persistent session (clean=0) — queued while it is offline, or sent and not
 * acknowledged — probed over real TCP. aedes kept them without limit, and the hub answers every `fetch`: a device that
 * asked for chunks and never acknowledged the answers made the hub keep them all, more with every reconnection
 * (outgoing-queue-bound.ts). Found while writing the broker fuzzer (test/fuzz/mqtt-broker.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { deviceTopic, encodeEnvelope } from '@fedfleet/proto';
import type { AedesBroker } from '../src/broker/aedes-broker.js';
import { MAX_OUTGOING_PER_CLIENT } from '../src/broker/outgoing-queue-bound.js';
import { createManualClock, type ManualClock } from '../src/clock.js';
import type { EnrollResponse } from '../src/fleet/schemas.js';
import { connectDevice, enrollDevice, waitFor } from './helpers/devices.js';
import { closesWithin, connectPacket, openRaw, remainingLength, utf8 } from './helpers/raw-mqtt.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

/** The fetches one reconnection gets answered at once: the default `fetch` burst. */
const FETCHES_PER_LOGIN = 400;

interface OutgoingStore {
  outgoingStream(client: { id: string }): AsyncIterable<unknown>;
}

async function held(testHub: TestHub, deviceId: string): Promise<number> {
  const store = ((testHub.hub.broker as AedesBroker).aedes as unknown as { persistence: OutgoingStore }).persistence;
  let count = 0;
  for await (const _ of store.outgoingStream({ id: deviceId })) count++;
  return count;
}

function packet(typeByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([typeByte]), remainingLength(body.length), body]);
}

/**
 * Logs in with clean=0, subscribes to the device's `chunk` topic, asks for `fetches` chunks of an unknown artifact
 * (each is answered, with an error code) and hangs up once the answers arrived, acknowledging none.
 */
async function fetchAndHangUp(testHub: TestHub, clock: ManualClock, device: EnrollResponse, first: number, fetches: number): Promise<void> {
  const connection = await openRaw(Number(new URL(testHub.mqttUrl).port));
  connection.socket.write(connectPacket({ clientId: device.clientId, username: device.username, password: device.password, clean: false }));
  await connection.receivedAtLeast(4);
  const parts = [packet(0x82, Buffer.concat([Buffer.from([0, 1]), utf8(deviceTopic(device.deviceId, 'chunk')), Buffer.from([1])]))];
  for (let i = first; i < first + fetches; i++) {
    const payload = encodeEnvelope({ msgId: `fetch-${i}`, deviceId: device.deviceId, chunkRequest: { sha256: 'a'.repeat(64), index: 0 } });
    parts.push(packet(0x30, Buffer.concat([utf8(deviceTopic(device.deviceId, 'fetch')), Buffer.from(payload)])));
  }
  connection.socket.write(Buffer.concat(parts));
  await waitFor(async () => (await held(testHub, device.deviceId)) >= Math.min(MAX_OUTGOING_PER_CLIENT, first + fetches) || connection.isClosed(), 10_000, 'the answers');
  connection.socket.destroy();
  await connection.closed;
  clock.advance(10_000); // the fetch rate limit refills
}

describe('messages held for a persistent session', () => {
  it(`are at most ${MAX_OUTGOING_PER_CLIENT} per client id, however often a device that acknowledges nothing logs back in`, async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({ clock });
    const device = await enrollDevice(testHub);
    for (let login = 0; login < 3; login++) await fetchAndHangUp(testHub, clock, device, login * FETCHES_PER_LOGIN, FETCHES_PER_LOGIN);
    expect(await held(testHub, device.deviceId)).toBe(MAX_OUTGOING_PER_CLIENT);
    expect(testHub.hub.metrics.mqttOutgoingDropped.get()).toBe(3 * FETCHES_PER_LOGIN - MAX_OUTGOING_PER_CLIENT);
    // Another device's messages are not affected by that one.
    const other = await enrollDevice(testHub);
    const client = await connectDevice(testHub, other, { clean: false });
    await client.subscribeAsync(deviceTopic(other.deviceId, 'cmd'), { qos: 1 });
    const received = new Promise((resolve) => client.once('message', resolve));
    await testHub.hub.broker.sendToDevice(other.deviceId, 'cmd', { command: { commandId: 'c1', cancel: {} } });
    await received;
  });

  it('closes a live connection that has left the most messages unacknowledged', async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({ clock });
    const device = await enrollDevice(testHub);
    await fetchAndHangUp(testHub, clock, device, 0, FETCHES_PER_LOGIN);
    await fetchAndHangUp(testHub, clock, device, FETCHES_PER_LOGIN, FETCHES_PER_LOGIN);
    const connection = await openRaw(Number(new URL(testHub.mqttUrl).port));
    connection.socket.write(connectPacket({ clientId: device.clientId, username: device.username, password: device.password, clean: false }));
    await connection.receivedAtLeast(4);
    for (let i = 0; i < MAX_OUTGOING_PER_CLIENT; i++) {
      if (connection.isClosed()) break;
      await testHub.hub.broker.sendToDevice(device.deviceId, 'chunk', { chunk: { sha256: 'b'.repeat(64), index: i } });
    }
    expect(await closesWithin(connection, 5000)).toBe(true);
    expect(await held(testHub, device.deviceId)).toBe(MAX_OUTGOING_PER_CLIENT);
  });

  it('do not limit a device that acknowledges what it receives', async () => {
    const testHub = await startTestHub({ clock: createManualClock() });
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device, { clean: false });
    await client.subscribeAsync(deviceTopic(device.deviceId, 'cmd'), { qos: 1 });
    let received = 0;
    client.on('message', () => void received++);
    const total = MAX_OUTGOING_PER_CLIENT + 200;
    for (let i = 0; i < total; i++) await testHub.hub.broker.sendToDevice(device.deviceId, 'cmd', { command: { commandId: `c${i}`, cancel: {} } });
    await waitFor(() => received === total, 10_000, `${total} commands`);
    await waitFor(async () => (await held(testHub, device.deviceId)) === 0, 5000, 'every acknowledgement');
  });
});
