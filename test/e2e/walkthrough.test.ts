/**
 * README's five-minute walk-through, as separate processes exactly as a user runs them: `fedfleet hub`,
 * `fedfleet tokens create`, `fedfleet agent`, `fedfleet devices ls`, `fedfleet fleet health` — plus `npm start`.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, waitFor } from './helpers/agent-harness.js';
import { cleanEnv, fedfleet, spawnFedfleet, spawnTracked, type TrackedProcess } from './helpers/processes.js';

interface DeviceRow {
  id: string;
  name: string;
  labels: Record<string, string>;
  status: 'online' | 'offline';
  lastSeen: string | null;
  telemetry: Record<string, unknown> | null;
}

/** Waits for the hub's start banner and returns its HTTP URL. */
async function hubUrl(hub: TrackedProcess): Promise<string> {
  const [, url] = await hub.waitForOutput(/HTTP API\s+(http:\/\/\S+)/);
  return url!;
}

async function api<T>(url: string, adminToken: string): Promise<T> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${adminToken}` } });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

function parseJson<T>(stdout: string): T {
  return JSON.parse(stdout) as T; // throws unless stdout is exactly one JSON value
}

describe('README walk-through as separate processes', () => {
  it('hub, token, agent, devices ls, fleet health, agent restart without a token, revocation, hub shutdown', async () => {
    const workDir = tempDir('fedfleet-walkthrough-'); // the user's shell directory: `./data` is found from here
    const dataDir = join(workDir, 'data');
    const agentDir = tempDir('fedfleet-walkthrough-agent-');
    const env = cleanEnv();

    const hub = spawnFedfleet(['hub', '--data-dir', dataDir, '--http-port', '0', '--mqtt-port', '0'], { cwd: workDir, env });
    const url = await hubUrl(hub);
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ ok: true });
    const tokenFile = join(dataDir, 'admin.token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const adminToken = readFileSync(tokenFile, 'utf8').trim();

    const created = await fedfleet(['tokens', 'create', '--hub', url, '--labels', 'site=lab', '--json', '--data-dir', dataDir], { cwd: workDir, env });
    expect(created, created.stderr).toMatchObject({ code: 0 });
    const { token } = parseJson<{ token: string }>(created.stdout);
    expect(token).toEqual(expect.any(String));

    const agentArgs = ['agent', '--hub', url, '--data-dir', agentDir, '--heartbeat-sec', '1'];
    const agent = spawnFedfleet([...agentArgs, '--token', token], { cwd: workDir, env });
    const [, deviceId] = await agent.waitForOutput(/fedfleet agent (\S+) /);
    expect(statSync(join(agentDir, 'credentials.json')).mode & 0o777).toBe(0o600);
    await waitFor(async () => (await api<DeviceRow>(`${url}/v1/devices/${deviceId}`, adminToken)).telemetry, 20_000, 'telemetry from the agent');

    // From the working directory the CLI finds ./data/admin.token by itself.
    const [listed, bySelector, health] = await Promise.all([
      fedfleet(['devices', 'ls', '--hub', url, '--json'], { cwd: workDir, env }),
      fedfleet(['devices', 'ls', '--hub', url, '--selector', 'site=lab', '--json'], { cwd: workDir, env }),
      fedfleet(['fleet', 'health', '--hub', url, '--json'], { cwd: workDir, env }),
    ]);
    expect(listed, listed.stderr).toMatchObject({ code: 0 });
    const devices = parseJson<DeviceRow[]>(listed.stdout);
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ id: deviceId, labels: { site: 'lab' }, status: 'online', lastSeen: expect.any(String), name: expect.any(String) });
    expect(devices[0]!.telemetry).toMatchObject({ cpuPercent: expect.any(Number), memTotalBytes: expect.any(Number), heartbeatSec: 1 });

    expect(parseJson<DeviceRow[]>(bySelector.stdout).map((d) => d.id)).toEqual([deviceId]);
    expect(parseJson(health.stdout)).toMatchObject({
      total: 1, byStatus: { online: 1, offline: 0 }, byLabel: { 'site=lab': { online: 1, offline: 0, healthy: 1, degraded: 0 } },
      health: { healthy: 1, degraded: 0, offline: 0 }, openAlerts: { total: 0 },
    });

    // Ctrl+C / SIGTERM: the agent says goodbye and exits 0; the hub shows it offline without waiting for a timeout.
    agent.signal('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    expect((await api<DeviceRow>(`${url}/v1/devices/${deviceId}`, adminToken)).status).toBe('offline');

    // Later starts need no token: same device, online again.
    const again = spawnFedfleet(agentArgs, { cwd: workDir, env });
    await again.waitForOutput(new RegExp(`fedfleet agent ${deviceId} `));
    await waitFor(async () => (await api<DeviceRow>(`${url}/v1/devices/${deviceId}`, adminToken)).status === 'online', 20_000, 'online again');
    expect(await api<DeviceRow[]>(`${url}/v1/devices`, adminToken)).toHaveLength(1);

    // Revoked, the agent is disconnected and exits with its error code instead of retrying forever.
    const revoked = await fetch(`${url}/v1/devices/${deviceId}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } });
    expect(revoked.status).toBe(204);
    expect(await again.exited).toEqual({ code: 1, signal: null });
    expect(again.stderr()).toContain('error AGENT_ERR_CREDENTIALS_REJECTED');

    hub.signal('SIGTERM');
    expect(await hub.exited).toEqual({ code: 0, signal: null });
  });

  it('npm start serves /healthz on a fresh data dir', async () => {
    const dataDir = join(tempDir('fedfleet-npm-start-'), 'data');
    // `npm start` is `fedfleet hub`; every setting is also an environment variable (hub/docs/configuration.md).
    const env = cleanEnv({ FEDFLEET_DATA_DIR: dataDir, FEDFLEET_HTTP_PORT: '0', FEDFLEET_MQTT_PORT: '0', FEDFLEET_HOST: '127.0.0.1' });
    const npm = spawnTracked('npm', ['start', '--silent'], { env });
    const url = await hubUrl(npm);
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ ok: true });
    expect(statSync(join(dataDir, 'admin.token')).mode & 0o777).toBe(0o600);
  });
});
