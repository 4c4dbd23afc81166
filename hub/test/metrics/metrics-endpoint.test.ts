/**
 * `GET /metrics` is strict Prometheus text, its device gauges agree with the devices API, and a round and a rollout
 * each move their duration histogram.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { boundedLabelCounts, MAX_LABEL_KEYS, MAX_VALUES_PER_KEY, OTHER_VALUE } from '../../src/fleet/fleet-metrics.js';
import { connectDevice, createToken, enrollDevice, publishStatus, waitFor } from '../helpers/devices.js';
import { parsePrometheusText, sampleValue, type Family } from '../helpers/prometheus-text.js';
import { addTinyVersion, createRollout, scriptedDevice, waitForRollout } from '../helpers/rollout-devices.js';
import type { TestHub } from '../helpers/test-hub.js';
import { startTestHub } from '../helpers/test-hub.js';
import { startCampaign, startRoundHub, tinyDelta, waitForCampaign } from '../rounds/round-helpers.js';

async function scrape(testHub: TestHub): Promise<Map<string, Family>> {
  const response = await testHub.hub.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(response.body);
}

async function listed(testHub: TestHub, query: string): Promise<number> {
  return (await testHub.api<unknown[]>('GET', `/v1/devices?limit=1000${query}`)).body.length;
}

describe('GET /metrics', () => {
  it('parses as Prometheus text: every family typed once, every sample well formed, process metrics included', async () => {
    const testHub = await startTestHub({ listen: false });
    const families = await scrape(testHub);
    for (const name of ['fedfleet_mqtt_messages_total', 'fedfleet_devices', 'fedfleet_round_duration_seconds', 'process_cpu_seconds_total']) {
      expect(families.get(name)?.type, name).toMatch(/^(counter|gauge|histogram)$/);
    }
    expect(families.get('fedfleet_rollout_duration_seconds')?.type).toBe('histogram');
    expect(sampleValue(families, 'fedfleet_devices_online')).toBe(0);
    // The parser itself is strict: it refuses what the format does not allow.
    expect(() => parsePrometheusText('# TYPE a counter\n# TYPE a counter\n')).toThrow(/second TYPE/);
    expect(() => parsePrometheusText('a 1\n')).toThrow(/no TYPE/);
    expect(() => parsePrometheusText('# TYPE a gauge\na{x="1"} one\n')).toThrow(/bad value/);
    expect(() => parsePrometheusText('# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n')).toThrow(/twice/);
  });

  it('counts devices by status, label and serving version as the devices API lists them', async () => {
    const testHub = await startTestHub();
    const { token } = await createToken(testHub, { maxUses: 10 });
    const labels: Record<string, string>[] = [{ site: 'lab' }, { site: 'lab' }, { site: 'home' }, {}];
    const devices = [];
    for (const [i, l] of labels.entries()) devices.push(await enrollDevice(testHub, { token, name: `d${i}`, labels: l }));
    // Three come online; one of them then goes away (its will), one never connects.
    const clients = [];
    for (const device of devices.slice(0, 3)) {
      const client = await connectDevice(testHub, device);
      await publishStatus(client, device.deviceId);
      clients.push(client);
    }
    await waitFor(() => testHub.hub.fleet.liveness.onlineCount() === 3);
    clients[1]!.stream.destroy();
    await waitFor(async () => (await listed(testHub, '&status=online')) === 2, 5000, 'd1 offline');

    const families = await scrape(testHub);
    for (const status of ['online', 'offline']) {
      expect(sampleValue(families, 'fedfleet_devices', { status }), status).toBe(await listed(testHub, `&status=${status}`));
    }
    expect(sampleValue(families, 'fedfleet_devices_online')).toBe(2);
    for (const site of ['lab', 'home']) {
      for (const status of ['online', 'offline']) {
        expect(sampleValue(families, 'fedfleet_devices_by_label', { key: 'site', value: site, status }), `${site} ${status}`)
          .toBe(await listed(testHub, `&selector=site=${site}&status=${status}`));
      }
    }
    expect(sampleValue(families, 'fedfleet_devices_by_version', { model: 'none', version: 'none' })).toBe(await listed(testHub, ''));
    // Messages in, with their lag from the device's sentAtMs (one histogram observation per accepted message).
    expect(sampleValue(families, 'fedfleet_mqtt_message_lag_seconds_count', { kind: 'status' })).toBe(sampleValue(families, 'fedfleet_mqtt_messages_total', { kind: 'status' }));
    expect(sampleValue(families, 'fedfleet_mqtt_messages_total', { kind: 'status' })).toBeGreaterThanOrEqual(3);
  });

  it('bounds label cardinality: most common values per key, the rest summed as __other__', () => {
    const rows = [];
    for (let v = 0; v < MAX_VALUES_PER_KEY + 5; v++) rows.push({ key: 'serial', value: `s${String(v).padStart(3, '0')}`, status: 'online' as const, count: v < 3 ? 2 : 1 });
    for (let k = 0; k < MAX_LABEL_KEYS + 3; k++) rows.push({ key: `k${k}`, value: 'x', status: 'offline' as const, count: 1 });
    const samples = boundedLabelCounts(rows);
    const serial = samples.filter((s) => s.labels.key === 'serial');
    expect(serial).toHaveLength(MAX_VALUES_PER_KEY + 1);
    expect(serial.find((s) => s.labels.value === OTHER_VALUE)!.value).toBe(5);
    expect(serial.reduce((sum, s) => sum + s.value, 0)).toBe(MAX_VALUES_PER_KEY + 5 + 3);
    expect(new Set(samples.map((s) => s.labels.key)).size).toBe(MAX_LABEL_KEYS);
  });

  it('observes a committed round in fedfleet_round_duration_seconds', async () => {
    const clock = createManualClock();
    const { testHub, api, enroll, online } = await startRoundHub({ clock });
    const devices = [await enroll('a'), await enroll('b')];
    await online(devices.map((d) => d.deviceId));
    const before = await scrape(testHub);
    expect(sampleValue(before, 'fedfleet_round_duration_seconds_count', { outcome: 'committed' })).toBe(0);

    const campaign = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 2, overSelect: 1, minClients: 2, deadlineSec: 600, evaluate: false });
    const tasks = await Promise.all(devices.map((d) => d.trainTask()));
    clock.advance(20_000); // under the heartbeat timeout (3 × 10 s): the devices stay online
    for (const [i, d] of devices.entries()) await d.sendUpdate(d.update(tasks[i]!, tinyDelta(0.01), 10));
    await waitForCampaign(api, campaign.id, (c) => c.state === 'completed', 5000, 'round committed');

    const after = await scrape(testHub);
    expect(sampleValue(after, 'fedfleet_round_duration_seconds_count', { outcome: 'committed' })).toBe(1);
    expect(sampleValue(after, 'fedfleet_round_duration_seconds_sum', { outcome: 'committed' })).toBeCloseTo(20, 0);
    expect(sampleValue(after, 'fedfleet_round_duration_seconds_bucket', { outcome: 'committed', le: '15' })).toBe(0);
    expect(sampleValue(after, 'fedfleet_round_duration_seconds_bucket', { outcome: 'committed', le: '30' })).toBe(1);
    expect(sampleValue(after, 'fedfleet_mqtt_messages_sent_total', { kind: 'cmd' })).toBeGreaterThanOrEqual(2);
  });

  it('observes a completed rollout in fedfleet_rollout_duration_seconds', async () => {
    const setup = await startRoundHub({ clock: createManualClock() });
    const { api, testHub, model } = setup;
    await addTinyVersion(testHub.hub, model.modelId, model.versionId);
    const devices = [];
    for (let i = 0; i < 2; i++) devices.push(await scriptedDevice(setup, `d${i}`, model.modelId, { active: model.versionId, labels: { site: 'a' } }));
    await setup.online(devices.map((d) => d.deviceId));
    const before = await scrape(testHub);
    expect(sampleValue(before, 'fedfleet_devices_by_version', { model: 'tiny', version: '1' })).toBe(2);
    expect(sampleValue(before, 'fedfleet_rollout_duration_seconds_count', { outcome: 'completed' })).toBe(0);

    const created = await createRollout(api, { model: 'tiny', version: 2, selector: 'site=a', waves: [{ percent: 100 }] });
    await waitForRollout(api, created.id, (r) => r.state === 'completed', 'rollout completed');

    const after = await scrape(testHub);
    expect(sampleValue(after, 'fedfleet_rollout_duration_seconds_count', { outcome: 'completed' })).toBe(1);
    expect(sampleValue(after, 'fedfleet_rollout_duration_seconds_bucket', { outcome: 'completed', le: '+Inf' })).toBe(1);
    expect(sampleValue(after, 'fedfleet_devices_by_version', { model: 'tiny', version: '2' })).toBe(2);
  });
});
