/**
 * SUBSCRIBE floods probed over raw TCP by a logged-in device. A device subscribes to two topics and is never denied,
 * but one SUBSCRIBE may carry thousands of filters, each checked by aedes and each denial logged, and SUBSCRIBE is
 * outside the per-device publish limits: the stream guard bounds the packet, the broker the denials of a session.
 */
import { describe, expect, it } from 'vitest';
import { deviceTopic } from '@fedfleet/proto';
import { MAX_DENIED_SUBSCRIPTIONS } from '../src/broker/aedes-broker.js';
import { CONTROL_PACKET_MAX_BYTES } from '../src/broker/connection-guard.js';
import { createLogger } from '../src/logger.js';
import type { EnrollResponse } from '../src/fleet/schemas.js';
import { enrollDevice } from './helpers/devices.js';
import { closesWithin, connectPacket, fixedHeader, openRaw, type RawConnection } from './helpers/raw-mqtt.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

/** A SUBSCRIBE (QoS 0 for every filter) [MQTT-3.8]. */
function subscribePacket(messageId: number, filters: string[]): Buffer {
  const payload = Buffer.concat(
    filters.map((filter) => {
      const bytes = Buffer.from(filter, 'utf8');
      return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes, Buffer.from([0])]);
    }),
  );
  return Buffer.concat([fixedHeader(0x82, 2 + payload.length), Buffer.from([messageId >> 8, messageId & 0xff]), payload]);
}

async function loggedIn(testHub: TestHub, device: EnrollResponse): Promise<RawConnection> {
  const raw = await openRaw(Number(new URL(testHub.mqttUrl).port));
  raw.socket.write(connectPacket({ clientId: device.clientId, username: device.username, password: device.password }));
  expect([...(await raw.receivedAtLeast(4)).subarray(0, 4)]).toEqual([0x20, 2, 0, 0]); // CONNACK accepted
  return raw;
}

async function hubWithLog() {
  const lines: Array<{ msg: string }> = [];
  const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
  const testHub = await startTestHub({ logger });
  const device = await enrollDevice(testHub);
  const denials = () => testHub.hub.metrics.aclDenials.get({ action: 'subscribe' });
  const logged = (msg: string) => lines.filter((l) => l.msg === msg).length;
  return { testHub, device, denials, logged };
}

/** Distinct filters a device may not subscribe to (each one a separate denial: aedes merges repeated filters). */
const deniedFilters = (count: number) => Array.from({ length: count }, (_, i) => `x/${i}`);

describe('SUBSCRIBE floods from a logged-in device (raw TCP)', () => {
  it('closes the connection at the header of a SUBSCRIBE larger than any device needs, before aedes parses a filter', async () => {
    const { testHub, device, denials } = await hubWithLog();
    const raw = await loggedIn(testHub, device);
    const packet = subscribePacket(1, deniedFilters(1000));
    expect(packet.length).toBeGreaterThan(CONTROL_PACKET_MAX_BYTES);
    raw.socket.write(packet);
    expect(await closesWithin(raw, 5000)).toBe(true);
    expect(testHub.hub.metrics.mqttConnectionsRefused.get({ reason: 'packet-too-large' })).toBe(1);
    expect(denials()).toBe(0);
    expect(raw.received().length).toBe(4); // the CONNACK, no SUBACK
  });

  it('closes a session at its MAX_DENIED_SUBSCRIPTIONS-th denied filter, however they are packed, logging each once', async () => {
    const { testHub, device, denials, logged } = await hubWithLog();
    // One packet (within the size limit) with many distinct denied filters.
    const packed = await loggedIn(testHub, device);
    const packet = subscribePacket(1, deniedFilters(300));
    expect(packet.length).toBeLessThanOrEqual(CONTROL_PACKET_MAX_BYTES);
    packed.socket.write(packet);
    expect(await closesWithin(packed, 5000)).toBe(true);
    expect(denials()).toBe(MAX_DENIED_SUBSCRIPTIONS);
    expect(logged('mqtt subscribe denied') + logged('mqtt connection closed: too many denied subscriptions')).toBe(MAX_DENIED_SUBSCRIPTIONS);

    // One denied filter per packet: each SUBACK says 0x80 and the connection stays, until the budget is spent.
    const oneByOne = await loggedIn(testHub, device);
    const other = await enrollDevice(testHub);
    const filters = [deviceTopic(other.deviceId, 'cmd'), '#', '$SYS/#', ...deniedFilters(MAX_DENIED_SUBSCRIPTIONS)];
    for (let i = 1; i < MAX_DENIED_SUBSCRIPTIONS; i++) {
      oneByOne.socket.write(subscribePacket(i, [filters[i - 1]!]));
      const suback = (await oneByOne.receivedAtLeast(4 + 5 * i)).subarray(4 + 5 * (i - 1));
      expect([...suback]).toEqual([0x90, 3, 0, i, 0x80]);
    }
    oneByOne.socket.write(subscribePacket(MAX_DENIED_SUBSCRIPTIONS, [filters[MAX_DENIED_SUBSCRIPTIONS - 1]!]));
    expect(await closesWithin(oneByOne, 5000)).toBe(true);
    expect(oneByOne.received().length).toBe(4 + 5 * (MAX_DENIED_SUBSCRIPTIONS - 1));
    expect(denials()).toBe(2 * MAX_DENIED_SUBSCRIPTIONS);
  });
});
