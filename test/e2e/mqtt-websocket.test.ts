/**
 * MQTT over WebSocket on the hub's HTTP port (`/mqtt`): the same authentication, ACL and routing as TCP, an agent
 * enrolled with a `ws://` URL living on it, and upgrades elsewhere (or with the listener turned off) refused.
 */
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { deviceTopic } from '@fedfleet/proto';
import { connectError, enrollDevice, publishStatus, subackCode, waitFor } from '../../hub/test/helpers/devices.js';
import { startTestHub, type TestHub } from '../../hub/test/helpers/test-hub.js';
import { startAgent } from './helpers/agent-harness.js';

function wsUrl(testHub: TestHub, path = '/mqtt'): string {
  return `${testHub.httpUrl.replace(/^http/, 'ws')}${path}`;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Status code of a plain WebSocket upgrade request to `path` on the HTTP port (101 = switched; -1 = connection dropped). */
async function upgradeStatus(testHub: TestHub, path: string): Promise<number> {
  return new Promise((resolve) => {
    const request = httpRequest(`${testHub.httpUrl}${path}`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'mqtt' },
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 101);
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', () => resolve(-1));
    request.end();
  });
}

describe('MQTT over WebSocket', () => {
  it('authenticates and enforces the ACL exactly as on TCP', async () => {
    const testHub = await startTestHub();
    const url = wsUrl(testHub);
    expect((await connectError(url, { clientId: 'dev-anon' }))?.code).toBe(5);
    const device = await enrollDevice(testHub);
    const other = await enrollDevice(testHub);
    expect((await connectError(url, { clientId: device.clientId, username: device.username, password: 'wrong' }))?.code).toBe(4);

    const client = await mqtt.connectAsync(url, { clientId: device.clientId, username: device.username, password: device.password, reconnectPeriod: 0 });
    try {
      await publishStatus(client, device.deviceId);
      await waitFor(() => testHub.hub.fleet.liveness.isOnline(device.deviceId), 5000, 'online over WebSocket');
      expect(await subackCode(client, deviceTopic(device.deviceId, 'cmd'))).toBe(1);
      expect(await subackCode(client, deviceTopic(other.deviceId, 'cmd'))).toBe(0x80);
      expect(await subackCode(client, 'ff/v1/dev/+/cmd')).toBe(0x80);
      // Publishing under another device's topics ends the connection, as on TCP.
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.publish(deviceTopic(other.deviceId, 'status'), Buffer.from([1]), { qos: 1 });
      await closed;
    } finally {
      await client.endAsync(true);
    }
  });

  it('carries an agent enrolled with a ws:// URL: online, telemetry, offline on stop', async () => {
    const httpPort = await freePort();
    const testHub = await startTestHub({ config: { httpPort, publicMqttUrl: `ws://127.0.0.1:${httpPort}/mqtt` } });
    const { agent } = await startAgent(testHub, { name: 'behind-a-proxy' });
    const deviceId = agent.deviceId!;
    const shown = await waitFor(async () => {
      const device = (await testHub.api<{ status: string; telemetry: Record<string, unknown> | null }>('GET', `/v1/devices/${deviceId}`)).body;
      return device.telemetry ? device : undefined;
    }, 10_000, 'telemetry over WebSocket');
    expect(shown.status).toBe('online');
    expect(testHub.hub.broker.isConnected(deviceId)).toBe(true);
    await agent.stop('test');
    await waitFor(() => !testHub.hub.fleet.liveness.isOnline(deviceId), 5000, 'offline');
  });

  it('refuses upgrades on other paths, and on /mqtt when mqttWsPath is empty', async () => {
    const on = await startTestHub();
    expect(await upgradeStatus(on, '/mqtt')).toBe(101);
    expect(await upgradeStatus(on, '/elsewhere')).toBe(404);
    const off = await startTestHub({ config: { mqttWsPath: '' } });
    expect(await upgradeStatus(off, '/mqtt')).not.toBe(101);
    // An MQTT client gets no session there: its connection closes without a CONNACK.
    const client = mqtt.connect(wsUrl(off), { clientId: 'x', username: 'x', password: 'y', reconnectPeriod: 0 });
    let connected = false;
    client.on('connect', () => (connected = true));
    await new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.end(true);
    expect(connected).toBe(false);
    // The HTTP API itself is untouched.
    expect((await fetch(`${off.httpUrl}/healthz`)).status).toBe(200);
  });
});
