/**
 * A logged-in device flooding cheap packets over raw TCP. PINGREQs are two bytes each and outside every publish rate
 * limit; unpaced, a few megabytes of them kept the hub's event loop busy for seconds. The stream guard now reads an
 * accepted connection at ACCEPTED_PACKET_RATE at most (on the hub's clock) and lets TCP slow the sender.
 */
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ACCEPTED_PACKET_RATE, GuardedConnection } from '../src/broker/connection-guard.js';
import { createManualClock } from '../src/clock.js';
import { enrollDevice } from './helpers/devices.js';
import { connectPacket, openRaw } from './helpers/raw-mqtt.js';
import { startTestHub } from './helpers/test-hub.js';

const PINGREQ = [0xc0, 0];
const PINGRESP_BYTES = 2;
const CONNACK_BYTES = 4;

describe('packet pacing in the stream guard', () => {
  it('holds what is over the rate, and the end of the stream behind it, until the clock allows', async () => {
    const clock = createManualClock();
    const inner = new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() });
    const guard = new GuardedConnection(inner, { maxConnectBytes: 1024, maxPacketBytes: 4096, connectTimeoutMs: 5000, clock, onRefuse: () => {} });
    guard.accept();
    const forwarded: Buffer[] = [];
    let ended = false;
    guard.on('data', (chunk: Buffer) => void forwarded.push(chunk));
    guard.on('end', () => (ended = true));
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const { burst, perSec } = ACCEPTED_PACKET_RATE;
    // One chunk: the burst of PINGREQs, then a PUBLISH whose body comes in the next chunk, then one more PINGREQ.
    const publish = Buffer.from([0x30, 5, 0, 1, 0x74, 1, 2]);
    inner.push(Buffer.concat([Buffer.from(Array.from({ length: burst }, () => PINGREQ).flat()), publish.subarray(0, 4)]));
    inner.push(Buffer.concat([publish.subarray(4), Buffer.from(PINGREQ)]));
    inner.push(null);
    await tick();
    expect(Buffer.concat(forwarded).length).toBe(burst * 2);
    expect(ended).toBe(false);
    clock.advance(Math.ceil(1000 / perSec) * 100);
    await tick();
    expect(Buffer.concat(forwarded).subarray(burst * 2)).toEqual(Buffer.concat([publish, Buffer.from(PINGREQ)]));
    await tick();
    expect(ended).toBe(true);
  });
});

describe('packet pacing of a logged-in connection (raw TCP)', () => {
  it('answers a PINGREQ flood at ACCEPTED_PACKET_RATE, every one of them, in order', async () => {
    await pingFlood(ACCEPTED_PACKET_RATE);
  });

  it('paces at config mqttPacketsPerSec, bursts of twice that', async () => {
    await pingFlood({ perSec: 50, burst: 100 }, { mqttPacketsPerSec: 50 });
  });
});

/** Floods a logged-in connection with PINGREQs and checks the answers come at `rate` on the hub's clock. */
async function pingFlood(rate: { perSec: number; burst: number }, config: { mqttPacketsPerSec?: number } = {}): Promise<void> {
  const clock = createManualClock();
  const testHub = await startTestHub({ clock, config });
  const device = await enrollDevice(testHub);
  const raw = await openRaw(Number(new URL(testHub.mqttUrl).port));
  raw.socket.write(connectPacket({ clientId: device.clientId, username: device.username, password: device.password }));
  expect([...(await raw.receivedAtLeast(CONNACK_BYTES)).subarray(0, 4)]).toEqual([0x20, 2, 0, 0]);
  const pingresps = () => (raw.received().length - CONNACK_BYTES) / PINGRESP_BYTES;

  const { burst, perSec } = rate;
  const flood = burst + 2 * perSec;
  raw.socket.write(Buffer.from(Array.from({ length: flood }, () => PINGREQ).flat()));
  await raw.receivedAtLeast(CONNACK_BYTES + burst * PINGRESP_BYTES);
  // The hub's clock stands still: however long real time runs, the rest waits in the socket.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(pingresps()).toBe(burst);

  clock.advance(1000);
  await raw.receivedAtLeast(CONNACK_BYTES + (burst + perSec) * PINGRESP_BYTES);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(pingresps()).toBe(burst + perSec);

  clock.advance(1000);
  await raw.receivedAtLeast(CONNACK_BYTES + flood * PINGRESP_BYTES);
  expect(raw.received().subarray(CONNACK_BYTES).every((byte, i) => byte === (i % 2 ? 0 : 0xd0))).toBe(true);
  expect(raw.isClosed()).toBe(false);
}
