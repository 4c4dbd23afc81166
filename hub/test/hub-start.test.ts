import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from './helpers/cli.js';
import { publishStatus, TEST_PROFILE, waitFor } from './helpers/devices.js';
import { startTestHub, tempDataDir, TEST_ADMIN_TOKEN } from './helpers/test-hub.js';

const BIN = fileURLToPath(new URL('../bin/fedfleet.mjs', import.meta.url));
const START_TIMEOUT_MS = 30_000;

interface HubChild {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

/** `fedfleet hub` in a child process on 127.0.0.1, killed when the test ends. */
function spawnHub(dataDir: string, ports: { http?: number; mqtt?: number } = {}): HubChild {
  const child = spawn(
    process.execPath,
    [BIN, 'hub', '--data-dir', dataDir, '--host', '127.0.0.1', '--http-port', String(ports.http ?? 0), '--mqtt-port', String(ports.mqtt ?? 0), '--log-level', 'warn'],
    { env: { PATH: process.env.PATH ?? '', FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, stderr: () => stderr, exited };
}

/** Waits for the startup banner and returns the addresses it names. */
async function started(hub: HubChild): Promise<{ httpUrl: string; mqttUrl: string }> {
  await waitFor(() => hub.stderr().includes('Press Ctrl+C') || hub.child.exitCode !== null, START_TIMEOUT_MS, 'the hub to start');
  const httpUrl = /HTTP API\s+(http:\/\/\S+)/.exec(hub.stderr())?.[1];
  const mqttUrl = /MQTT broker\s+(mqtt:\/\/\S+)/.exec(hub.stderr())?.[1];
  if (!httpUrl || !mqttUrl) throw new Error(`the hub did not start:\n${hub.stderr()}`);
  return { httpUrl, mqttUrl };
}

async function api<T>(httpUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Enrolls a device through the HTTP API and brings it online over MQTT. */
async function onlineDevice(hub: { httpUrl: string; mqttUrl: string }): Promise<string> {
  const { token } = await api<{ token: string }>(hub.httpUrl, 'POST', '/v1/enrollment-tokens', {});
  const device = await api<{ deviceId: string; username: string; password: string; clientId: string }>(
    hub.httpUrl, 'POST', '/v1/enroll', { token, name: 'pi', profile: TEST_PROFILE },
  );
  const client = await mqtt.connectAsync(hub.mqttUrl, {
    username: device.username, password: device.password, clientId: device.clientId, reconnectPeriod: 0, connectTimeout: 5000,
  });
  onTestFinished(() => client.endAsync(true));
  await publishStatus(client, device.deviceId);
  await waitFor(async () => (await deviceStatus(hub.httpUrl, device.deviceId)) === 'online', 5000, 'the device online');
  return device.deviceId;
}

const deviceStatus = async (httpUrl: string, id: string) => (await api<{ status: string }>(httpUrl, 'GET', `/v1/devices/${id}`)).status;

/** A TCP port held by something else for the rest of the test. */
async function occupiedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

describe('starting a hub', () => {
  it('refuses a second hub on the same data directory, naming the first, whose devices stay online; a killed hub\'s lock is taken over', async () => {
    const dataDir = tempDataDir();
    const first = spawnHub(dataDir);
    const firstAddresses = await started(first);
    const deviceId = await onlineDevice(firstAddresses);

    // Other ports, same data directory: refused before it writes anything.
    const second = spawnHub(dataDir);
    expect(await Promise.race([second.exited, started(second).then(() => 'started')])).toBe(1);
    const refusal = second.stderr().trim();
    expect(refusal).toMatch(/^error HUB_ERR_DATA_DIR_LOCKED: data directory .+ is in use by another hub \(/);
    expect(refusal).toContain(`pid ${first.child.pid} on `);
    expect(refusal).toContain(`HTTP ${firstAddresses.httpUrl}, MQTT ${firstAddresses.mqttUrl}`);
    expect(refusal).toContain('--data-dir (FEDFLEET_DATA_DIR)');
    expect(refusal).not.toMatch(/\n\s+at /); // no stack trace

    // The first hub still knows its device online, in memory and in the shared database.
    expect(await deviceStatus(firstAddresses.httpUrl, deviceId)).toBe('online');
    expect((await api<{ byStatus: { online: number } }>(firstAddresses.httpUrl, 'GET', '/v1/fleet/health')).byStatus.online).toBe(1);

    // A hub that dies without closing leaves no lock behind: the operating system released it with the process.
    first.child.kill('SIGKILL');
    await first.exited;
    const next = await startTestHub({ dataDir, listen: false });
    expect((await next.api<{ status: string }>('GET', `/v1/devices/${deviceId}`)).body.status).toBe('offline');
  }, 60_000);

  it('reports a port in use with the flag and variable that set it, not as an internal error', async () => {
    const httpPort = await occupiedPort();
    const child = spawnHub(tempDataDir(), { http: httpPort });
    expect(await child.exited).toBe(1);
    expect(child.stderr().trim()).toBe(
      `error HUB_ERR_PORT_IN_USE: HTTP port ${httpPort} is already in use (127.0.0.1:${httpPort}: another hub or program listens there); ` +
        'choose another with --http-port or FEDFLEET_HTTP_PORT, or 0 for any free port',
    );

    // The MQTT port the same way (in process: the same main() as the binary), and the data directory is released.
    const dataDir = tempDataDir();
    const mqttPort = await occupiedPort();
    const args = ['hub', '--data-dir', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--log-level', 'silent'];
    const run = await runCli([...args, '--mqtt-port', String(mqttPort)], { env: { FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^error HUB_ERR_PORT_IN_USE: MQTT port ${mqttPort} is already in use .*--mqtt-port or FEDFLEET_MQTT_PORT`));
    await startTestHub({ dataDir, listen: false });
  }, 60_000);
});
