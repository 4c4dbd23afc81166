import { describe, expect, it } from 'vitest';
import type { DeviceJson, FleetHealth } from '../src/fleet/schemas.js';
import { connectDevice, connectError, createToken, enrollDevice, publishStatus, waitFor } from './helpers/devices.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

async function ids(testHub: TestHub, query: string): Promise<string[]> {
  const response = await testHub.api<DeviceJson[]>('GET', `/v1/devices${query}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.map((d) => d.name).sort();
}

async function fleetOf(testHub: TestHub) {
  const a = await enrollDevice(testHub, { name: 'a', tokenLabels: { site: 'lab', tier: 'gold' } });
  const b = await enrollDevice(testHub, { name: 'b', tokenLabels: { site: 'lab', tier: 'silver' } });
  const c = await enrollDevice(testHub, { name: 'c', tokenLabels: { site: 'home' } });
  const d = await enrollDevice(testHub, { name: 'd', tokenLabels: {} });
  return { a, b, c, d };
}

describe('GET /v1/devices', () => {
  it('filters with label selectors and status', async () => {
    const testHub = await startTestHub();
    const { a } = await fleetOf(testHub);
    expect(await ids(testHub, '')).toEqual(['a', 'b', 'c', 'd']);
    expect(await ids(testHub, '?selector=site=lab')).toEqual(['a', 'b']);
    expect(await ids(testHub, '?selector=site=lab,tier!=gold')).toEqual(['b']);
    expect(await ids(testHub, '?selector=tier!=gold')).toEqual(['b', 'c', 'd']); // k!=v includes devices without k
    expect(await ids(testHub, '?selector=tier')).toEqual(['a', 'b']);
    expect(await ids(testHub, `?selector=${encodeURIComponent('!site')}`)).toEqual(['d']);
    expect(await ids(testHub, '?selector=site==home')).toEqual(['c']);
    expect(await ids(testHub, '?selector=site=mars')).toEqual([]);

    const client = await connectDevice(testHub, a);
    await publishStatus(client, a.deviceId);
    await waitFor(() => testHub.hub.fleet.liveness.isOnline(a.deviceId));
    expect(await ids(testHub, '?status=online')).toEqual(['a']);
    expect(await ids(testHub, '?status=offline&selector=site=lab')).toEqual(['b']);
  });

  it('pages with limit and offset and reports the total', async () => {
    const testHub = await startTestHub();
    await fleetOf(testHub);
    const page = await testHub.api<DeviceJson[]>('GET', '/v1/devices?limit=2&offset=1');
    expect(page.body.map((d) => d.name)).toEqual(['b', 'c']);
    expect(page.headers['x-total-count']).toBe('4');
  });

  it('lists the documented device fields', async () => {
    const testHub = await startTestHub();
    await fleetOf(testHub);
    const [device] = (await testHub.api<DeviceJson[]>('GET', '/v1/devices?limit=1')).body;
    expect(Object.keys(device!).sort()).toEqual(
      ['activeModelId', 'activeVersionId', 'activeSha256', 'previousVersionId', 'shadowVersionId', 'registryVersions', 'agentVersion', 'createdAt',
        'id', 'labels', 'lastSeen', 'name', 'profile', 'status', 'telemetry', 'health'].sort(),
    );
    expect(device).toMatchObject({ status: 'offline', lastSeen: null, telemetry: null, profile: { kind: 'test-board', cores: 4 } });
  });

  it('rejects a malformed selector with HUB_ERR_BAD_SELECTOR', async () => {
    const testHub = await startTestHub();
    for (const selector of ['site=lab,,x', '=x', 'bad key=1', 'k=v v']) {
      const response = await testHub.api<{ error: { code: string } }>('GET', `/v1/devices?selector=${encodeURIComponent(selector)}`);
      expect(response.status, selector).toBe(400);
      expect(response.body.error.code).toBe('HUB_ERR_BAD_SELECTOR');
    }
  });
});

describe('GET|PATCH|DELETE /v1/devices/:id', () => {
  it('404s with HUB_ERR_DEVICE_NOT_FOUND', async () => {
    const testHub = await startTestHub();
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const response = await testHub.api<{ error: { code: string } }>(method, '/v1/devices/dev-0000000000000000', method === 'PATCH' ? { name: 'x' } : undefined);
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('HUB_ERR_DEVICE_NOT_FOUND');
    }
  });

  it('sets and removes labels, renames, and audit-logs it', async () => {
    const testHub = await startTestHub();
    const { a } = await fleetOf(testHub);
    const events: unknown[] = [];
    testHub.hub.events.on('device.relabelled', (event) => events.push(event));
    const patched = await testHub.api<DeviceJson>('PATCH', `/v1/devices/${a.deviceId}`, {
      name: 'a-renamed',
      labels: { set: { room: 'r1', tier: 'platinum' }, remove: ['site'] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'a-renamed', labels: { room: 'r1', tier: 'platinum' } });
    expect(patched.body.labels).not.toHaveProperty('site');
    expect(await ids(testHub, '?selector=tier=platinum')).toEqual(['a-renamed']);
    expect(events).toHaveLength(1);
    const audit = (await testHub.api<Array<{ action: string; details: Record<string, unknown> }>>('GET', `/v1/audit?target=${a.deviceId}`)).body;
    expect(audit.map((e) => e.action)).toEqual(['device.relabelled', 'device.renamed', 'device.enrolled']);
    expect(audit[0]!.details).toMatchObject({ remove: ['site'], after: { room: 'r1', tier: 'platinum' } });
  });

  it('rejects contradictory or invalid label changes, changing nothing', async () => {
    const testHub = await startTestHub();
    const { a } = await fleetOf(testHub);
    const both = await testHub.api<{ error: { code: string } }>('PATCH', `/v1/devices/${a.deviceId}`, { labels: { set: { x: '1' }, remove: ['x'] } });
    expect(both.status).toBe(400);
    expect(both.body.error.code).toBe('HUB_ERR_BAD_LABELS');
    const invalid = await testHub.api<{ error: { code: string } }>('PATCH', `/v1/devices/${a.deviceId}`, { labels: { set: { 'no spaces': 'x' } } });
    expect(invalid.body.error.code).toBe('HUB_ERR_VALIDATION');
    const unknownField = await testHub.api<{ error: { code: string } }>('PATCH', `/v1/devices/${a.deviceId}`, { color: 'red' });
    expect(unknownField.body.error.code).toBe('HUB_ERR_VALIDATION');
    expect((await testHub.api<DeviceJson>('GET', `/v1/devices/${a.deviceId}`)).body.labels).toEqual({ site: 'lab', tier: 'gold' });
  });

  it('DELETE revokes: disconnects the live session at once, clears the retained status, refuses the old password', async () => {
    const testHub = await startTestHub();
    const { a, b } = await fleetOf(testHub);
    const client = await connectDevice(testHub, a);
    await publishStatus(client, a.deviceId);
    await waitFor(() => testHub.hub.fleet.liveness.isOnline(a.deviceId));
    expect(await testHub.hub.broker.retainedStatus(a.deviceId)).toBeDefined();
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const revokedEvent = new Promise((resolve) => testHub.hub.events.once('device.revoked', resolve));

    const response = await testHub.api('DELETE', `/v1/devices/${a.deviceId}`);
    expect(response.status).toBe(204);
    await closed;
    await revokedEvent;
    expect(testHub.hub.broker.isConnected(a.deviceId)).toBe(false);
    expect(await testHub.hub.broker.retainedStatus(a.deviceId)).toBeUndefined();
    const error = await connectError(testHub.mqttUrl, { clientId: a.clientId, username: a.username, password: a.password });
    expect(error?.code).toBe(4);
    expect((await testHub.api('GET', `/v1/devices/${a.deviceId}`)).status).toBe(404);
    expect(await ids(testHub, '')).toEqual(['b', 'c', 'd']);
    const audit = (await testHub.api<Array<{ action: string; target: string }>>('GET', '/v1/audit?action=device.revoked')).body;
    expect(audit).toEqual([expect.objectContaining({ action: 'device.revoked', target: a.deviceId })]);
    // Others are untouched.
    expect((await connectDevice(testHub, b)).connected).toBe(true);
  });
});

describe('GET /v1/fleet/health', () => {
  it('counts devices by status and by label', async () => {
    const testHub = await startTestHub();
    const { a, c } = await fleetOf(testHub);
    for (const device of [a, c]) {
      const client = await connectDevice(testHub, device);
      await publishStatus(client, device.deviceId);
    }
    await waitFor(() => testHub.hub.fleet.liveness.onlineCount() === 2);
    const health = (await testHub.api<FleetHealth>('GET', '/v1/fleet/health')).body;
    expect(health).toEqual({
      total: 4,
      byStatus: { online: 2, offline: 2 },
      byLabel: {
        'site=home': { online: 1, offline: 0, healthy: 1, degraded: 0 },
        'site=lab': { online: 1, offline: 1, healthy: 1, degraded: 0 },
        'tier=gold': { online: 1, offline: 0, healthy: 1, degraded: 0 },
        'tier=silver': { online: 0, offline: 1, healthy: 0, degraded: 0 },
      },
      health: { healthy: 2, degraded: 0, offline: 2 },
      openAlerts: { total: 0, byRule: {} },
      byVersion: [{ modelId: null, versionId: null, version: null, devices: 4, healthy: 2, degraded: 0, offline: 2, meanAccuracy: null }],
    });
  });
});

describe('token listing after use', () => {
  it('counts uses', async () => {
    const testHub = await startTestHub();
    const { token } = await createToken(testHub, { maxUses: 2 });
    await enrollDevice(testHub, { token });
    const [listed] = (await testHub.api<Array<{ uses: number }>>('GET', '/v1/enrollment-tokens')).body;
    expect(listed!.uses).toBe(1);
  });
});
