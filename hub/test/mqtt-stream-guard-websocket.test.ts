/**
 * The stream guard on MQTT over WebSocket (issue 7, defect 1): the same header check as on TCP, and a WebSocket frame
 * that ws would buffer whole is cut off once an unauthenticated client has sent its budget. Raw sockets speak the
 * WebSocket handshake and frames by hand (RFC 6455), so a frame can be left half-sent.
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { enrollDevice, publishStatus, waitFor } from './helpers/devices.js';
import { closesWithin, fixedHeader, openRaw, type RawConnection } from './helpers/raw-mqtt.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

const MiB = 1024 * 1024;

/** Opens a raw connection to the hub's HTTP port and completes the WebSocket upgrade on `/mqtt`. */
async function openWebSocket(testHub: TestHub): Promise<RawConnection> {
  const raw = await openRaw(Number(new URL(testHub.httpUrl).port));
  raw.socket.write(
    'GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n',
  );
  await waitFor(() => raw.received().includes('\r\n\r\n'), 5000, 'upgrade response');
  expect(raw.received().toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  return raw;
}

/** The header of a masked binary frame [RFC 6455 5.2] carrying `payloadBytes`; the all-zero mask leaves bytes as sent. */
function frameHeader(payloadBytes: number): Buffer {
  if (payloadBytes < 126) return Buffer.from([0x82, 0x80 | payloadBytes, 0, 0, 0, 0]);
  const header = Buffer.alloc(14);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(payloadBytes), 2);
  return header; // the mask key (bytes 10–13) stays zero
}

const frame = (payload: Buffer) => Buffer.concat([frameHeader(payload.length), payload]);
const refused = (testHub: TestHub, reason: string) => testHub.hub.metrics.mqttConnectionsRefused.get({ reason });

describe('stream guard on MQTT over WebSocket', () => {
  it('closes a connection whose CONNECT header announces 200 MiB, and keeps serving devices', async () => {
    const testHub = await startTestHub();
    const ws = await openWebSocket(testHub);
    ws.socket.write(frame(Buffer.concat([fixedHeader(0x10, 200 * MiB), Buffer.alloc(100)])));
    expect(await closesWithin(ws, 5000)).toBe(true);
    expect(refused(testHub, 'unauthenticated-packet-too-large')).toBe(1);

    const device = await enrollDevice(testHub);
    const url = `${testHub.httpUrl.replace(/^http/, 'ws')}/mqtt`;
    const client = await mqtt.connectAsync(url, { clientId: device.clientId, username: device.username, password: device.password, reconnectPeriod: 0 });
    try {
      await publishStatus(client, device.deviceId);
      await waitFor(() => testHub.hub.fleet.liveness.isOnline(device.deviceId), 5000, 'online over WebSocket');
    } finally {
      await client.endAsync(true);
    }
  });

  it('cuts off an unauthenticated client streaming one large frame that ws would buffer whole', async () => {
    const testHub = await startTestHub();
    const ws = await openWebSocket(testHub);
    // 4 MiB is within ws' per-message limit, so ws keeps buffering it, waiting for the rest of the frame.
    ws.socket.write(frameHeader(4 * MiB));
    for (let i = 0; i < 16 && !ws.isClosed(); i++) {
      ws.socket.write(Buffer.alloc(16 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await closesWithin(ws, 5000)).toBe(true);
    expect(refused(testHub, 'unauthenticated-bytes')).toBe(1);
  });
});
