/**
 * QoS 2 messages a device sends and never releases (no PUBREL), over reconnections of a persistent session (clean=0),
 * probed over real TCP. aedes bounds them per connection only and kept each one whole: a device could grow the hub's
 * memory by its whole byte rate, for good (inbound-qos2-bound.ts). Found by reading aedes' publish handler while
 * writing the broker fuzzer (test/fuzz/mqtt-broker.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { deviceTopic, encodeEnvelope } from '@fedfleet/proto';
import type { AedesBroker } from '../src/broker/aedes-broker.js';
import { MAX_INBOUND_QOS2_PER_CLIENT } from '../src/broker/inbound-qos2-bound.js';
import { createManualClock } from '../src/clock.js';
import type { EnrollResponse } from '../src/fleet/schemas.js';
import { enrollDevice } from './helpers/devices.js';
import { closesWithin, connectPacket, openRaw, remainingLength, utf8 } from './helpers/raw-mqtt.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

interface IncomingStore {
  incomingGetPacket(client: { id: string }, packet: { messageId: number }): Promise<{ payload: Buffer }>;
}

/** A QoS 2 PUBLISH of a valid CommandResult on the device's `reply` topic, `padBytes` of command id. */
function publishQos2(device: EnrollResponse, messageId: number, padBytes = 16): Buffer {
  const payload = encodeEnvelope({ msgId: `m${messageId}`, deviceId: device.deviceId, commandResult: { commandId: 'c'.repeat(padBytes), code: 3 } });
  const body = Buffer.concat([utf8(deviceTopic(device.deviceId, 'reply')), Buffer.from([messageId >> 8, messageId & 0xff]), payload]);
  return Buffer.concat([Buffer.from([0x34]), remainingLength(body.length), body]);
}

function pubrel(messageId: number): Buffer {
  return Buffer.from([0x62, 2, messageId >> 8, messageId & 0xff]);
}

/** Logs in with clean=0, sends `packets` and waits for `answerBytes` more bytes than the CONNACK. */
async function session(testHub: TestHub, device: EnrollResponse, packets: Buffer[], answerBytes: number) {
  const connection = await openRaw(Number(new URL(testHub.mqttUrl).port));
  connection.socket.write(connectPacket({ clientId: device.clientId, username: device.username, password: device.password, clean: false }));
  await connection.receivedAtLeast(4);
  connection.socket.write(Buffer.concat(packets));
  if (answerBytes > 0) await connection.receivedAtLeast(4 + answerBytes, 20_000);
  return connection;
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('QoS 2 messages awaiting PUBREL', () => {
  it('are kept without their payload', async () => {
    const testHub = await startTestHub({ clock: createManualClock() });
    const device = await enrollDevice(testHub);
    const connection = await session(testHub, device, [publishQos2(device, 1, 20_000)], 4); // PUBREC
    const store = ((testHub.hub.broker as AedesBroker).aedes as unknown as { persistence: IncomingStore }).persistence;
    const held = await store.incomingGetPacket({ id: device.deviceId }, { messageId: 1 });
    expect(held.payload.length).toBe(0);
    // Still held: the PUBREL is answered, and a redelivery of the same packet id is not routed again.
    connection.socket.write(pubrel(1));
    expect((await connection.receivedAtLeast(12)).subarray(8, 12)).toEqual(Buffer.from([0x70, 2, 0, 1])); // PUBCOMP
  });

  it(`are at most ${MAX_INBOUND_QOS2_PER_CLIENT} per client id across reconnections; a PUBREL makes room`, async () => {
    // The device's rate limits do not stand in the way: the bound holds whatever they let through.
    const testHub = await startTestHub({ clock: createManualClock(), config: { deviceRateLimits: { reply: { perSec: 100_000, burst: 100_000 } } } });
    const device = await enrollDevice(testHub);
    const first = MAX_INBOUND_QOS2_PER_CLIENT - 100;
    const earlier = await session(testHub, device, range(1, first).map((id) => publishQos2(device, id)), 4 * first);
    earlier.socket.destroy();
    await earlier.closed;

    // aedes counts per connection: this one alone stays far below its own limit, but the client id reaches the bound.
    const later = await session(testHub, device, range(first + 1, 100).map((id) => publishQos2(device, id)), 4 * 100);
    expect(later.isClosed()).toBe(false);
    later.socket.write(publishQos2(device, MAX_INBOUND_QOS2_PER_CLIENT + 1));
    expect(await closesWithin(later, 5000)).toBe(true);
    expect(testHub.hub.metrics.mqttConnectionsRefused.get({ reason: 'unreleased-qos2-backlog' })).toBe(1);
    const store = ((testHub.hub.broker as AedesBroker).aedes as unknown as { persistence: IncomingStore }).persistence;
    await expect(store.incomingGetPacket({ id: device.deviceId }, { messageId: MAX_INBOUND_QOS2_PER_CLIENT + 1 })).rejects.toThrow();

    // Releasing one makes room for one.
    const released = await session(testHub, device, [pubrel(1), publishQos2(device, MAX_INBOUND_QOS2_PER_CLIENT + 1)], 8);
    expect(released.received().subarray(4, 12)).toEqual(Buffer.from([0x70, 2, 0, 1, 0x50, 2, (MAX_INBOUND_QOS2_PER_CLIENT + 1) >> 8, (MAX_INBOUND_QOS2_PER_CLIENT + 1) & 0xff]));
    expect(released.isClosed()).toBe(false);
  });

  it('are forgotten with the session: a clean login starts from none', async () => {
    const testHub = await startTestHub({ clock: createManualClock(), config: { deviceRateLimits: { reply: { perSec: 100_000, burst: 100_000 } } } });
    const device = await enrollDevice(testHub);
    const full = await session(testHub, device, range(1, 600).map((id) => publishQos2(device, id)), 4 * 600);
    full.socket.destroy();
    await full.closed;
    const port = Number(new URL(testHub.mqttUrl).port);
    const clean = await openRaw(port);
    clean.socket.write(connectPacket({ clientId: device.clientId, username: device.username, password: device.password }));
    await clean.receivedAtLeast(4);
    clean.socket.destroy();
    await clean.closed;
    const again = await session(testHub, device, range(601, 600).map((id) => publishQos2(device, id)), 4 * 600);
    expect(again.isClosed()).toBe(false);
  });
});
