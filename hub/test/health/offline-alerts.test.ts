import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { DeviceJson } from '../../src/fleet/schemas.js';
import type { FleetHealthSummary } from '../../src/health/schemas.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';
import { waitFor } from '../helpers/devices.js';
import { TEST_ADMIN_TOKEN } from '../helpers/test-hub.js';
import { goOffline, goOnline, onlineDevice, sampleTelemetry, startHealthHub, type HealthHub } from './health-helpers.js';

/** Reads `GET /v1/events` over a real HTTP connection and collects its records until stopped. */
function readEventStream(hub: HealthHub, types: string) {
  const records: Array<{ event: string; data: Record<string, unknown> }> = [];
  let connected = false;
  const req = request(new URL(`/v1/events?types=${types}&token=${TEST_ADMIN_TOKEN}`, hub.httpUrl), (res) => {
    connected = res.statusCode === 200; // the hub subscribes before it sends the headers
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n\n');
      buffer = parts.pop()!;
      for (const part of parts) {
        const event = part.split('\n').find((l) => l.startsWith('event: '))?.slice(7);
        const data = part.split('\n').find((l) => l.startsWith('data: '))?.slice(6);
        if (event && data) records.push({ event, data: JSON.parse(data) as Record<string, unknown> });
      }
    });
  });
  req.on('error', () => {});
  req.end();
  return { records, connected: () => connected, stop: () => req.destroy() };
}

describe('device-offline', () => {
  it('opens after 60 s offline, makes the device offline in its health, and resolves when it is back', async () => {
    const hub = await startHealthHub();
    const { deviceId, client } = await onlineDevice(hub);
    await goOffline(hub, deviceId, client);

    hub.advance(59);
    expect(await hub.alerts('?state=open')).toEqual([]);
    hub.advance(1);
    const [alert] = await hub.alerts('?state=open');
    expect(alert).toMatchObject({ rule: 'device-offline', subject: `device:${deviceId}`, deviceId, severity: 'critical', state: 'open', threshold: 60 });
    const device = (await hub.api<DeviceJson>('GET', `/v1/devices/${deviceId}`)).body;
    expect(device.health).toEqual({ status: 'offline', reasons: [alert!.message] });

    await goOnline(hub, deviceId, client);
    const [resolved] = await hub.alerts();
    expect(resolved).toMatchObject({ id: alert!.id, state: 'resolved', resolvedAt: new Date(hub.clock.now()).toISOString() });
    expect(await hub.alerts('?state=open')).toEqual([]);
    expect((await hub.api<DeviceJson>('GET', `/v1/devices/${deviceId}`)).body.health).toEqual({ status: 'healthy', reasons: [] });
  });

  it('streams device.offline and alert.opened on GET /v1/events', async () => {
    const hub = await startHealthHub();
    const { deviceId, client } = await onlineDevice(hub);
    const stream = readEventStream(hub, 'device.offline,alert.opened');
    await waitFor(() => stream.connected(), 5000, 'the stream to subscribe');
    await goOffline(hub, deviceId, client);
    hub.advance(60);
    await waitFor(() => stream.records.length >= 2, 5000, 'two events');
    stream.stop();
    expect(stream.records.map((r) => r.event)).toEqual(['device.offline', 'alert.opened']);
    expect(stream.records[0]!.data).toMatchObject({ deviceId, reason: 'status' });
    expect(stream.records[1]!.data).toMatchObject({ alert: { rule: 'device-offline', deviceId, state: 'open' } });
  });
});

describe('fleet health and metrics', () => {
  it('counts health as GET /v1/devices shows it, and exports open alerts by rule', async () => {
    const hub = await startHealthHub();
    const a = await onlineDevice(hub, { site: 'lab' });
    const b = await onlineDevice(hub, { site: 'lab' });
    const c = await onlineDevice(hub, { site: 'home' });
    // a: degraded (disk almost full), b: offline for 60 s, c: healthy.
    sampleTelemetry(hub, a.deviceId, { diskFreeBytes: 5, diskTotalBytes: 100 });
    await goOffline(hub, b.deviceId, b.client);
    hub.advance(60);

    const devices = (await hub.api<DeviceJson[]>('GET', '/v1/devices')).body;
    const statusOf = (id: string) => devices.find((d) => d.id === id)!.health.status;
    expect([statusOf(a.deviceId), statusOf(b.deviceId), statusOf(c.deviceId)]).toEqual(['degraded', 'offline', 'healthy']);
    expect(devices.find((d) => d.id === a.deviceId)!.health.reasons).toEqual([expect.stringMatching(/^disk 5\.0 % free < 10 %/)]);
    const filtered = (await hub.api<DeviceJson[]>('GET', '/v1/devices?health=degraded')).body;
    expect(filtered.map((d) => d.id)).toEqual([a.deviceId]);

    const summary = (await hub.api<FleetHealthSummary>('GET', '/v1/fleet/health')).body;
    const counted = { healthy: 0, degraded: 0, offline: 0 };
    for (const device of devices) counted[device.health.status]++;
    expect(summary.health).toEqual(counted);
    expect(summary).toMatchObject({
      total: 3,
      byStatus: { online: 2, offline: 1 },
      byLabel: { 'site=lab': { online: 1, offline: 1, healthy: 0, degraded: 1 }, 'site=home': { online: 1, offline: 0, healthy: 1, degraded: 0 } },
      openAlerts: { total: 2, byRule: { 'disk-low': 1, 'device-offline': 1 } },
      byVersion: [{ versionId: null, devices: 3, healthy: 1, degraded: 1, offline: 1, meanAccuracy: null }],
    });

    const metrics = parsePrometheusText((await hub.hub.inject({ method: 'GET', url: '/metrics' })).body);
    const family = (name: string) => metrics.get(name)!;
    const open = Object.fromEntries(family('fedfleet_alerts_open').samples.map((s) => [s.labels.rule, s.value]));
    expect(open).toMatchObject({ 'disk-low': 1, 'device-offline': 1, 'cpu-pressure': 0 });
    expect(family('fedfleet_alerts_total').samples.map((s) => [s.labels.rule, s.value]).sort()).toEqual([['device-offline', 1], ['disk-low', 1]]);
  });
});
