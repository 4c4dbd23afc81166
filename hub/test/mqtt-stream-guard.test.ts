/**
 * The broker's stream guard (issue 7, defect 1): packets refused from their header, before and after login, and an
 * unauthenticated connection bounded in bytes and time. Unit tests drive the guard over an in-memory stream; the
 * rest go through raw TCP sockets to a real hub, the way an attacker would.
 */
import { Duplex, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { deviceTopic } from '@fedfleet/proto';
import { GuardedConnection, type ConnectionGuardOptions, type GuardRefusal } from '../src/broker/connection-guard.js';
import { FixedHeaderScanner } from '../src/broker/fixed-header-scanner.js';
import { createManualClock } from '../src/clock.js';
import { connectDevice, enrollDevice, publishStatus, waitFor } from './helpers/devices.js';
import { closesWithin, connectPacket, fixedHeader, openRaw } from './helpers/raw-mqtt.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

const MiB = 1024 * 1024;
const tick = () => new Promise((resolve) => setImmediate(resolve));

function guarded(overrides: Partial<ConnectionGuardOptions> = {}) {
  const clock = createManualClock();
  const refusals: GuardRefusal[] = [];
  const written: Buffer[] = [];
  const inner = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
  });
  const guard = new GuardedConnection(inner, {
    maxConnectBytes: 1024, maxPacketBytes: 4096, connectTimeoutMs: 5000, clock, onRefuse: (r) => void refusals.push(r), ...overrides,
  });
  guard.on('error', () => {});
  const forwarded: Buffer[] = [];
  guard.on('data', (chunk: Buffer) => void forwarded.push(chunk));
  return { clock, refusals, written, inner, guard, forwarded };
}

describe('fixed header scanner', () => {
  it('follows packets across chunk boundaries, byte by byte', () => {
    const stream = Buffer.concat([fixedHeader(0x10, 3), Buffer.alloc(3), fixedHeader(0xc0, 0), fixedHeader(0x30, 200), Buffer.alloc(200)]);
    const scanner = new FixedHeaderScanner();
    for (const byte of stream) expect(scanner.scan(Buffer.from([byte]), 200)).toBeUndefined();
    // The next header (split over two chunks) announces one byte too many.
    expect(scanner.scan(Buffer.from([0x30, 0xc9]), 200)).toBeUndefined();
    expect(scanner.scan(Buffer.from([0x01]), 200)).toEqual({ kind: 'oversize', packetType: 3, remainingBytes: 201 });
  });

  it('refuses a Remaining Length of five bytes [MQTT-2.2.3]', () => {
    expect(new FixedHeaderScanner().scan(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]), 1e9)).toEqual({ kind: 'malformed-length' });
  });
});

describe('connection guard', () => {
  it('forwards bytes both ways unchanged', async () => {
    const { inner, guard, forwarded, written } = guarded();
    const bytes = Buffer.concat([fixedHeader(0x10, 10), Buffer.alloc(10, 7)]);
    inner.push(bytes);
    guard.write(Buffer.from('answer'));
    await tick();
    expect(Buffer.concat(forwarded)).toEqual(bytes);
    expect(Buffer.concat(written).toString()).toBe('answer');
  });

  it('hands what aedes writes corked (one packet in pieces) to the socket as one write', async () => {
    const writes: number[] = [];
    const inner = new Duplex({
      read() {},
      write(_chunk, _encoding, callback) {
        writes.push(1);
        callback();
      },
      writev(chunks, callback) {
        writes.push(chunks.length);
        callback();
      },
    });
    const guard = new GuardedConnection(inner, {
      maxConnectBytes: 1024, maxPacketBytes: 4096, connectTimeoutMs: 5000, clock: createManualClock(), onRefuse: () => {},
    });
    guard.cork();
    for (const piece of [[0x40], [0x02], [0x00, 0x01]]) guard.write(Buffer.from(piece));
    process.nextTick(() => guard.uncork()); // as mqtt-packet's writeToStream does
    await tick();
    expect(writes).toEqual([3]); // not three small TCP writes, each waiting on Nagle and a delayed ACK
  });

  it('refuses at the header a packet over the unauthenticated limit, before its body arrives', async () => {
    const { inner, guard, forwarded, refusals } = guarded();
    inner.push(fixedHeader(0x10, 200 * MiB));
    await tick();
    expect(refusals).toEqual([{ reason: 'unauthenticated-packet-too-large', bytes: 200 * MiB, limitBytes: 1024, remoteAddress: undefined }]);
    expect(forwarded).toEqual([]);
    expect(guard.destroyed && inner.destroyed).toBe(true);
  });

  it('bounds the bytes of an unaccepted connection in all, however they are cut into packets', async () => {
    const { inner, refusals } = guarded();
    for (let i = 0; i < 3; i++) inner.push(Buffer.concat([fixedHeader(0x30, 400), Buffer.alloc(400)]));
    await tick();
    expect(refusals.map((r) => r.reason)).toEqual(['unauthenticated-bytes']);
  });

  it('after acceptance allows packets up to maxPacketBytes and refuses larger ones', async () => {
    const { inner, guard, forwarded, refusals } = guarded();
    guard.accept();
    for (let i = 0; i < 3; i++) inner.push(Buffer.concat([fixedHeader(0x30, 4096), Buffer.alloc(4096)]));
    await tick();
    expect(refusals).toEqual([]);
    expect(Buffer.concat(forwarded).length).toBe(3 * (3 + 4096));
    inner.push(fixedHeader(0x30, 4097));
    await tick();
    expect(refusals.map((r) => r.reason)).toEqual(['packet-too-large']);
  });

  it('closes a connection not accepted within the timeout; an accepted one stays', async () => {
    const slow = guarded();
    const quick = guarded();
    quick.guard.accept();
    slow.clock.advance(4999);
    quick.clock.advance(60_000);
    expect(slow.refusals).toEqual([]);
    slow.clock.advance(1);
    await tick();
    expect(slow.refusals.map((r) => r.reason)).toEqual(['connect-timeout']);
    expect(slow.inner.destroyed).toBe(true);
    expect(quick.refusals).toEqual([]);
    expect(quick.inner.destroyed).toBe(false);
  });

  it('counts the raw bytes under a framing layer against the unauthenticated budget', async () => {
    const rawSocket = new PassThrough();
    const { refusals, guard } = guarded({ rawSocket });
    rawSocket.write(Buffer.alloc(2048)); // budget: maxConnectBytes + 1 KiB of framing
    expect(refusals).toEqual([]);
    rawSocket.write(Buffer.alloc(1));
    await tick();
    expect(refusals.map((r) => r.reason)).toEqual(['unauthenticated-bytes']);
    expect(guard.destroyed).toBe(true);
  });

  it('closes on a malformed Remaining Length', async () => {
    const { inner, refusals } = guarded();
    inner.push(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01]));
    await tick();
    expect(refusals.map((r) => r.reason)).toEqual(['malformed-header']);
  });
});

const mqttPort = (testHub: TestHub) => Number(new URL(testHub.mqttUrl).port);
const refused = (testHub: TestHub, reason: string) => testHub.hub.metrics.mqttConnectionsRefused.get({ reason });

describe('embedded broker behind the stream guard (TCP)', () => {
  it('closes connections whose CONNECT header announces 200 MiB after a few KB, and keeps serving devices', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const { createLogger } = await import('../src/logger.js');
    const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const testHub = await startTestHub({ logger });
    // Three at once, as in the issue; each sends the header and 4 KB of its "CONNECT" and nothing more.
    const attackers = await Promise.all([0, 1, 2].map(() => openRaw(mqttPort(testHub))));
    for (const attacker of attackers) attacker.socket.write(Buffer.concat([fixedHeader(0x10, 200 * MiB), Buffer.alloc(4096)]));
    for (const attacker of attackers) expect(await closesWithin(attacker, 5000)).toBe(true);
    expect(refused(testHub, 'unauthenticated-packet-too-large')).toBe(3);
    expect(lines.find((l) => l.msg === 'mqtt connection closed by the stream guard')).toMatchObject({
      reason: 'unauthenticated-packet-too-large', remoteAddress: expect.stringContaining('127.0.0.1'), bytes: 200 * MiB,
    });

    const malformed = await openRaw(mqttPort(testHub));
    malformed.socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(await closesWithin(malformed, 5000)).toBe(true);
    expect(refused(testHub, 'malformed-header')).toBe(1);

    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    await publishStatus(client, device.deviceId);
    await waitFor(() => testHub.hub.fleet.liveness.isOnline(device.deviceId), 5000, 'device online');
  });

  it('closes a connection that has not logged in within mqttConnectTimeoutSec, silent or trickling', async () => {
    const clock = createManualClock();
    // 30 s on the manual clock: aedes' own wall-clock connect timer (same value) cannot fire during the test.
    const testHub = await startTestHub({ clock, config: { mqttConnectTimeoutSec: 30 } });
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    const silent = await openRaw(mqttPort(testHub));
    const trickling = await openRaw(mqttPort(testHub));
    const connect = connectPacket({ clientId: device.clientId, username: device.username, password: device.password });
    trickling.socket.write(connect.subarray(0, 2));
    clock.advance(15_000);
    trickling.socket.write(connect.subarray(2, 6));
    clock.advance(14_999);
    expect(await closesWithin(silent, 200)).toBe(false);
    expect(trickling.isClosed()).toBe(false);
    clock.advance(1);
    expect(await closesWithin(silent, 5000)).toBe(true);
    expect(await closesWithin(trickling, 5000)).toBe(true);
    expect(refused(testHub, 'connect-timeout')).toBe(2);
    // The device logged in long ago: the timeout is not for it.
    expect(client.connected).toBe(true);
    expect(testHub.hub.broker.isConnected(device.deviceId)).toBe(true);
  });

  it('after login, closes a connection whose PUBLISH header announces far more than maxPayloadBytes', async () => {
    const testHub = await startTestHub({ config: { maxPayloadBytes: 64 * 1024 } });
    const device = await enrollDevice(testHub);
    const raw = await openRaw(mqttPort(testHub));
    raw.socket.write(connectPacket({ clientId: device.clientId, username: device.username, password: device.password }));
    expect([...(await raw.receivedAtLeast(4)).subarray(0, 4)]).toEqual([0x20, 2, 0, 0]); // CONNACK accepted
    await waitFor(() => testHub.hub.broker.isConnected(device.deviceId));
    const topic = Buffer.from(deviceTopic(device.deviceId, 'update'));
    const topicField = Buffer.concat([Buffer.from([0, topic.length]), topic, Buffer.from([0, 1])]);
    raw.socket.write(Buffer.concat([fixedHeader(0x32, 100 * MiB), topicField, Buffer.alloc(4096)]));
    expect(await closesWithin(raw, 5000)).toBe(true);
    expect(refused(testHub, 'packet-too-large')).toBe(1);
    await waitFor(() => !testHub.hub.broker.isConnected(device.deviceId), 5000, 'session closed');
  });
});
