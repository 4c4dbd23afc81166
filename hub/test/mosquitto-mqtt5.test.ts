/**
 * Debian's Mosquitto clients (mosquitto-clients) against the embedded broker with what it does not speak, or speaks
 * rarely: MQTT 5 with properties (refused with return code 1, [MQTT-3.1.2-2]; proto/docs/mqtt-topics.md) and QoS 2
 * under MQTT 3.1.1 (kept without its payload until PUBREL, inbound-qos2-bound.ts). Skipped when they are not installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceState, deviceTopic } from '@fedfleet/proto';
import { enrollDevice, statusPayload, waitFor } from './helpers/devices.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';
import type { EnrollResponse } from '../src/fleet/schemas.js';

const installed = !spawnSync('mosquitto_sub', ['--help']).error && !spawnSync('mosquitto_pub', ['--help']).error;

function run(command: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

function login(testHub: TestHub, device: EnrollResponse, version: string): string[] {
  const url = new URL(testHub.mqttUrl);
  return ['-h', url.hostname, '-p', url.port, '-V', version, '-i', device.clientId, '-u', device.username, '-P', device.password];
}

describe.skipIf(!installed)(`embedded broker and mosquitto clients beyond MQTT 3.1.1 QoS 1${installed ? '' : ' (skipped: mosquitto-clients not installed)'}`, () => {
  it('refuses MQTT 5, whatever the properties, as an unsupported protocol version; the session is left alone', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const properties = [
      '-D', 'connect', 'session-expiry-interval', '3600', '-D', 'connect', 'receive-maximum', '1', '-D', 'connect', 'maximum-packet-size', '128',
      '-D', 'connect', 'topic-alias-maximum', '2', '-D', 'connect', 'user-property', 'k', 'v', '-D', 'connect', 'authentication-method', 'SCRAM-SHA-1',
      '--will-topic', deviceTopic(device.deviceId, 'status'), '--will-payload', 'x', '-D', 'will', 'will-delay-interval', '5',
      '-D', 'will', 'response-topic', deviceTopic(device.deviceId, 'reply'), '-D', 'will', 'correlation-data', 'c',
    ];
    const sub = await run('mosquitto_sub', [
      ...login(testHub, device, 'mqttv5'), ...properties, '-t', deviceTopic(device.deviceId, 'cmd'), '-D', 'subscribe', 'subscription-identifier', '7', '-W', '5',
    ]);
    expect(sub.code).not.toBe(0);
    expect(sub.stderr).toMatch(/Unsupported Protocol Version/i);
    const pub = await run('mosquitto_pub', [
      ...login(testHub, device, 'mqttv5'), ...properties, '-t', deviceTopic(device.deviceId, 'telemetry'), '-m', 'x', '-D', 'publish', 'topic-alias', '1',
    ]);
    expect(pub.code).not.toBe(0);
    expect(pub.stderr).toMatch(/Unsupported Protocol Version/i);
    expect(testHub.hub.broker.isConnected(device.deviceId)).toBe(false);
    expect(await testHub.hub.broker.retainedStatus(device.deviceId)).toBeUndefined();
  });

  it('takes a retained Status at QoS 2 over MQTT 3.1.1 and 3.1', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    for (const version of ['mqttv311', 'mqttv31']) {
      const file = join(testHub.dataDir, `status-${version}.bin`);
      writeFileSync(file, statusPayload(device.deviceId, { state: DeviceState.DEVICE_STATE_ONLINE, agentVersion: version }));
      const published = await run('mosquitto_pub', [...login(testHub, device, version), '-t', deviceTopic(device.deviceId, 'status'), '-f', file, '-r', '-q', '2']);
      expect(published.code, published.stderr).toBe(0);
      await waitFor(async () => (await testHub.api<{ agentVersion: string }>('GET', `/v1/devices/${device.deviceId}`)).body.agentVersion === version);
    }
  });
});
