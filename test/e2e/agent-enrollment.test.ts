/** The real agent enrolls once, keeps its credentials (0600) and reports system telemetry the hub serves. */
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DeviceJson } from '../../hub/src/fleet/schemas.js';
import { startTestHub } from '../../hub/test/helpers/test-hub.js';
import { recordHubEvents, startAgent, waitFor } from './helpers/agent-harness.js';

describe('agent enrollment and telemetry', () => {
  it('enrolls once, goes online with system telemetry, and reuses its credentials without a token', async () => {
    const testHub = await startTestHub();
    const log = recordHubEvents(testHub);
    const first = await startAgent(testHub, { name: 'pi-lab', labels: { room: 'b12' } });
    const deviceId = first.agent.deviceId!;
    expect(statSync(first.store.path).mode & 0o777).toBe(0o600);
    expect(await first.store.load()).toMatchObject({ deviceId, username: deviceId, clientId: deviceId, hubUrl: testHub.httpUrl });

    const device = await waitFor(async () => {
      const { body } = await testHub.api<DeviceJson>('GET', `/v1/devices/${deviceId}`);
      return body.status === 'online' && body.telemetry?.memTotalBytes ? body : undefined;
    }, 10_000, 'online with telemetry');
    expect(device).toMatchObject({ id: deviceId, name: 'pi-lab', labels: { room: 'b12' }, agentVersion: expect.any(String) });
    expect(device.profile.kind).not.toBe('');
    const telemetry = device.telemetry!;
    for (const key of ['cpuPercent', 'memTotalBytes', 'memFreeBytes', 'rssBytes', 'load1', 'uptimeSec', 'agentUptimeSec', 'diskFreeBytes', 'diskTotalBytes'] as const) {
      expect(telemetry[key], key).toEqual(expect.any(Number));
    }
    expect(telemetry.memTotalBytes).toBeGreaterThan(0);
    expect(telemetry.rssBytes).toBeGreaterThan(0);
    expect(telemetry.diskTotalBytes).toBeGreaterThan(0);
    expect(telemetry.heartbeatSec).toBe(1);

    await first.agent.stop();
    await log.next('device.offline', { deviceId, reason: 'status' });

    // Same data dir, no token: the saved credentials are used and no second device is enrolled.
    const mark = log.mark();
    const second = await startAgent(testHub, { dataDir: first.dataDir, token: null });
    expect(second.agent.deviceId).toBe(deviceId);
    await log.next('device.online', { deviceId }, mark);
    const { body: devices, headers } = await testHub.api<DeviceJson[]>('GET', '/v1/devices');
    expect(headers['x-total-count']).toBe('1');
    expect(devices.map((d) => d.id)).toEqual([deviceId]);
    expect(log.count('device.enrolled')).toBe(1);
  });
});
