/**
 * Probes the embedded broker with Debian's Mosquitto command-line clients (package mosquitto-clients), a second,
 * independent MQTT 3.1.1 implementation. Skipped, with the reason in the test name, when they are not installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, DeviceState, deviceTopic } from '@fedfleet/proto';
import { enrollDevice, statusPayload, waitFor } from './helpers/devices.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';
import type { EnrollResponse } from '../src/fleet/schemas.js';

const installed = !spawnSync('mosquitto_sub', ['--help']).error && !spawnSync('mosquitto_pub', ['--help']).error;
if (!installed) console.warn('mosquitto-clients tests skipped: mosquitto_sub/mosquitto_pub not found (apt-get install mosquitto-clients)');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[]): { done: Promise<Run> } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) };
}

function credentials(testHub: TestHub, device: EnrollResponse, password = device.password): string[] {
  const url = new URL(testHub.mqttUrl);
  return ['-h', url.hostname, '-p', url.port, '-V', 'mqttv311', '-i', device.clientId, '-u', device.username, '-P', password];
}

describe.skipIf(!installed)(`embedded broker seen by mosquitto_pub/mosquitto_sub${installed ? '' : ' (skipped: mosquitto-clients not installed)'}`, () => {
  it('refuses a wrong password', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const result = await run('mosquitto_sub', [...credentials(testHub, device, 'wrong'), '-t', deviceTopic(device.deviceId, 'cmd'), '-W', '5']).done;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/bad user name or password/i);
  });

  it('denies wildcard subscriptions in the SUBACK', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    for (const filter of ['#', 'ff/v1/dev/+/cmd']) {
      const result = await run('mosquitto_sub', [...credentials(testHub, device), '-t', filter, '-W', '5']).done;
      expect(result.stderr, filter).toMatch(/All subscription requests were denied/);
    }
  });

  it('drops the connection of a device publishing to another device’s topic', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const other = await enrollDevice(testHub);
    const result = await run('mosquitto_pub', [...credentials(testHub, device), '-t', deviceTopic(other.deviceId, 'status'), '-m', 'x', '-q', '1']).done;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/connection was lost/i);
  });

  it('takes a retained Status from mosquitto_pub and delivers a hub command to mosquitto_sub', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const file = join(testHub.dataDir, 'status.bin');
    writeFileSync(file, statusPayload(device.deviceId, { state: DeviceState.DEVICE_STATE_ONLINE, agentVersion: 'mosquitto' }));
    const published = await run('mosquitto_pub', [...credentials(testHub, device), '-t', deviceTopic(device.deviceId, 'status'), '-f', file, '-r', '-q', '1']).done;
    expect(published.code, published.stderr).toBe(0);
    // mosquitto_pub disconnects cleanly right after, so the device shows up online and then offline again.
    await waitFor(async () => (await testHub.api<{ agentVersion: string }>('GET', `/v1/devices/${device.deviceId}`)).body.agentVersion === 'mosquitto');

    const subscriber = run('mosquitto_sub', [...credentials(testHub, device), '-t', deviceTopic(device.deviceId, 'cmd'), '-q', '1', '-C', '1', '-W', '10', '-F', '%x']);
    await waitFor(() => testHub.hub.broker.isConnected(device.deviceId), 5000, 'mosquitto_sub to connect');
    // The SUBSCRIBE follows the CONNECT closely; resend until the command arrives.
    const result = await new Promise<Run>((resolve) => {
      let done = false;
      void subscriber.done.then((r) => ((done = true), resolve(r)));
      const send = () => {
        if (done) return;
        void testHub.hub.broker.sendToDevice(device.deviceId, 'cmd', { command: { commandId: 'from-hub', config: { heartbeatSec: 3 } } });
        setTimeout(send, 100);
      };
      send();
    });
    expect(result.code, result.stderr).toBe(0);
    const envelope = decodeEnvelope(Buffer.from(result.stdout.trim(), 'hex'), { deviceId: device.deviceId, topicKind: 'cmd' });
    expect(envelope.command).toMatchObject({ commandId: 'from-hub', config: { heartbeatSec: 3 } });
  });
});
