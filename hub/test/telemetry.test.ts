/**
 * Telemetry ingestion and history (DESIGN section 6, issue 11 item 1): batched writes, the latest sample, the
 * query picking raw / minute / hour, refused parameters, retention pruning interleaved with ingestion, and the
 * bounded queue counting what it drops. Manual clock throughout.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../src/clock.js';
import { createLogger } from '../src/logger.js';
import { createTelemetryIngest } from '../src/fleet/telemetry-ingest.js';
import { connectDevice, enrollDevice, publishStatus, publishTelemetry, waitFor } from './helpers/devices.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

type Series = { metric: string; resolution: string; points: Array<{ at: string; value?: number; mean?: number; min?: number; max?: number; count?: number }> };
const sample = (deviceId: string, atMs: number, cpuPercent: number) => ({ deviceId, atMs, telemetry: { cpuPercent, charging: false, activeVersionId: '' } });
const blockCount = (testHub: TestHub, tier: number) =>
  (testHub.hub.store.db.prepare('SELECT (SELECT COUNT(*) FROM telemetry_block WHERE tier = ?) + (SELECT COUNT(*) FROM telemetry_open_block WHERE tier = ?) AS n').get(tier, tier) as { n: number }).n;
const SNAPSHOT = `SELECT COUNT(*) AS n, SUM(length(data)) AS bytes, SUM(end_ms) AS ends
  FROM (SELECT data, end_ms FROM telemetry_block UNION ALL SELECT data, end_ms FROM telemetry_open_block)`;

describe('telemetry ingestion', () => {
  it('stores samples received over MQTT and answers them by metric; raw samples leave after the retention window', async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({ clock, config: { telemetryRetentionHours: 1 } });
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    await publishStatus(client, device.deviceId);
    const received: number[] = [];
    testHub.hub.events.on('telemetry', (event) => received.push(event.telemetry.cpuPercent ?? 0));

    await publishTelemetry(client, device.deviceId, { cpuPercent: 1 });
    await waitFor(() => received.length === 1);
    clock.advance(40 * 60_000);
    await publishTelemetry(client, device.deviceId, { cpuPercent: 2 });
    await waitFor(() => received.length === 2);

    const url = `/v1/devices/${device.deviceId}/telemetry?metric=cpuPercent`;
    const history = await testHub.api<Series>('GET', url);
    expect(history.body).toMatchObject({ metric: 'cpuPercent', resolution: 'raw' });
    expect(history.body.points.map((p) => p.value)).toEqual([1, 2]);

    clock.advance(30 * 60_000); // the first sample is 70 minutes old, beyond the 1 h raw retention
    const pruned = await testHub.api<Series>('GET', `${url}&from=${new Date(clock.now() - 3_600_000).toISOString()}`);
    expect(pruned.body.points.map((p) => p.value)).toEqual([2]);
    const latest = await testHub.api<{ telemetry: { cpuPercent: number } }>('GET', `/v1/devices/${device.deviceId}`);
    expect(latest.body.telemetry.cpuPercent).toBe(2);
  });

  it('queues samples and writes them in batches; latest keeps the newest sample', async () => {
    const testHub = await startTestHub({ listen: false });
    const device = await enrollDevice(testHub);
    const ingest = testHub.hub.fleet.telemetry;
    for (let i = 0; i < 10; i++) ingest.add(sample(device.deviceId, 1000 + i, i));
    expect(blockCount(testHub, 0)).toBe(0); // queued, not yet written
    ingest.add(sample(device.deviceId, 500, 99)); // late arrival, older than the others: latest only
    expect(ingest.flush()).toBe(11);
    expect(blockCount(testHub, 0)).toBe(1);
    expect(ingest.stats()).toMatchObject({ written: 11, outOfOrder: 1, dropped: 0, queued: 0 });
    expect(ingest.latest(device.deviceId)?.telemetry.cpuPercent).toBe(9);
  });

  it('picks raw, minute or hour by the range and step, and refuses bad parameters without writing anything', async () => {
    const clock = createManualClock(Date.UTC(2024, 0, 1, 6));
    const testHub = await startTestHub({ clock, listen: false });
    const device = await enrollDevice(testHub);
    const ingest = testHub.hub.fleet.telemetry;
    const startMs = clock.now() - 6 * 3_600_000;
    for (let t = startMs; t < clock.now(); t += 10_000) ingest.add(sample(device.deviceId, t, ((t - startMs) / 10_000) % 100));
    const base = `/v1/devices/${device.deviceId}/telemetry?metric=cpuPercent`;
    const iso = (ms: number) => new Date(ms).toISOString();

    const raw = await testHub.api<Series>('GET', `${base}&from=${iso(clock.now() - 600_000)}`);
    expect(raw.body.resolution).toBe('raw');
    expect(raw.body.points).toHaveLength(60);
    const minute = await testHub.api<Series>('GET', `${base}&from=${iso(startMs)}&step=60`);
    expect(minute.body.resolution).toBe('minute');
    expect(minute.body.points).toHaveLength(360);
    expect(minute.body.points[0]).toMatchObject({ min: 0, max: 5, mean: 2.5, count: 6 });
    const fiveMinutes = await testHub.api<Series>('GET', `${base}&from=${iso(startMs)}&step=300`);
    expect(fiveMinutes.body.points[0]).toMatchObject({ min: 0, max: 29, mean: 14.5, count: 30 });
    const hour = await testHub.api<Series>('GET', `${base}&from=${iso(startMs)}&step=3600`);
    expect(hour.body.resolution).toBe('hour');
    expect(hour.body.points.map((p) => p.count)).toEqual([360, 360, 360, 360, 360, 360]);
    const byRange = await testHub.api<Series>('GET', `${base}&from=${iso(startMs)}`); // 6 h / 2000 points → 11 s steps
    expect(byRange.body.resolution).toBe('raw');
    const beyondRaw = await testHub.api<Series>('GET', `${base}&from=${iso(clock.now() - 8 * 86_400_000)}&step=3600`);
    expect(beyondRaw.body.resolution).toBe('hour');

    const before = testHub.hub.store.db.prepare(SNAPSHOT).get();
    const refused: Array<[string, string]> = [
      [`${base}&from=${iso(clock.now())}&to=${iso(clock.now() - 1000)}`, 'HUB_ERR_TELEMETRY_QUERY'],
      [`${base}&from=${iso(startMs)}&step=1`, 'HUB_ERR_TELEMETRY_QUERY'],
      [`${base}&from=${iso(clock.now() - 500 * 86_400_000)}&step=86400`, 'HUB_ERR_TELEMETRY_QUERY'],
      [`/v1/devices/${device.deviceId}/telemetry?metric=activeVersionId`, 'HUB_ERR_VALIDATION'],
      [`${base}&step=0`, 'HUB_ERR_VALIDATION'],
      [`${base}&from=yesterday`, 'HUB_ERR_VALIDATION'],
      [`/v1/devices/nope/telemetry?metric=cpuPercent`, 'HUB_ERR_DEVICE_NOT_FOUND'],
    ];
    for (const [url, code] of refused) {
      const response = await testHub.api<{ error: { code: string } }>('GET', url);
      expect(response.body.error?.code, url).toBe(code);
      expect(testHub.hub.store.db.prepare(SNAPSHOT).get(), url).toEqual(before);
    }
  });

  it('prunes old history a few blocks at a time while ingestion goes on', async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({ clock, listen: false });
    const devices = [await enrollDevice(testHub), await enrollDevice(testHub), await enrollDevice(testHub)];
    const ingest = createTelemetryIngest({ db: testHub.hub.store.db, clock, log: createLogger('silent'), retentionHours: 1, pruneBatchBlocks: 2 });
    const startMs = clock.now();
    const publishAll = (atMs: number) => devices.forEach((d, i) => ingest.add(sample(d.deviceId, atMs, i)));
    for (let t = startMs; t < startMs + 3 * 3_600_000; t += 10_000) publishAll(t);
    clock.advance(3 * 3_600_000);
    ingest.flush();
    const oldRaw = () => (testHub.hub.store.db.prepare('SELECT COUNT(*) AS n FROM telemetry_block WHERE tier = 0 AND end_ms < ?').get(clock.now() - 3_600_000) as { n: number }).n;
    expect(oldRaw()).toBe(6); // 3 devices × 2 hour-long blocks older than an hour

    ingest.start();
    const written = ingest.stats().written;
    for (let step = 1; step <= 6; step++) {
      clock.advance(1); // one prune step…
      publishAll(clock.now()); // …then more samples arrive and are committed before the next step
      expect(ingest.flush()).toBe(3);
      expect(oldRaw()).toBe(Math.max(0, 6 - 2 * step));
    }
    ingest.stop();
    expect(ingest.stats().written).toBe(written + 18);
    const lastHour = ingest.query(devices[0]!.deviceId, { metric: 'cpuPercent', from: new Date(clock.now() - 3_600_000).toISOString() });
    expect(lastHour.resolution).toBe('raw');
    expect(lastHour.points.length).toBeGreaterThanOrEqual(360);
  });

  it('counts the samples it drops when the store falls behind and the queue is full', async () => {
    const testHub = await startTestHub({ listen: false });
    const device = await enrollDevice(testHub);
    const db = testHub.hub.store.db;
    const clock = createManualClock();
    const ingest = createTelemetryIngest({ db, clock, log: createLogger('silent'), retentionHours: 1, batchSize: 4, maxQueueSamples: 10 });
    db.pragma('query_only = ON'); // every write fails, as when the disk is full or the database is locked
    for (let i = 0; i < 25; i++) ingest.add(sample(device.deviceId, clock.now() - 25_000 + i * 1000, i));
    expect(ingest.stats()).toMatchObject({ written: 0, queued: 10, dropped: 15 });
    db.pragma('query_only = OFF');
    expect(ingest.flush()).toBe(10);
    expect(ingest.stats()).toMatchObject({ written: 10, queued: 0, dropped: 15 });
    expect(ingest.query(device.deviceId, { metric: 'cpuPercent' }).points.map((p) => 'value' in p && p.value))
      .toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('the latest telemetry of a device', () => {
  it('carries the labelled-accuracy count and the input histograms, and leaves out a histogram whose range is not finite', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    await publishStatus(client, device.deviceId);
    const stats = { lo: 0, hi: 1, counts: [3, 0, 5, 2], examples: 10 };
    await publishTelemetry(client, device.deviceId, {
      cpuPercent: 4, localAccuracy: 0.5, localAccuracyExamples: 64, inputStats: stats, inputBaseline: { ...stats, lo: Number.NaN },
    });
    type Shown = { telemetry: Record<string, unknown> | null };
    const shown = await waitFor(async () => {
      const body = (await testHub.api<Shown>('GET', `/v1/devices/${device.deviceId}`)).body;
      return body.telemetry?.cpuPercent === 4 ? body.telemetry : undefined;
    });
    expect(shown).toMatchObject({ localAccuracyExamples: 64, inputStats: stats });
    expect(shown).not.toHaveProperty('inputBaseline');
  });
});
