/**
 * The telemetry ingest on `/metrics` (hub/docs/metrics.md#telemetry-ingestion): samples written, waiting in the
 * queue, and dropped when the queue is full, read from the ingest's own counts at scrape time.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { registerFleetMetrics } from '../../src/fleet/fleet-metrics.js';
import { createTelemetryIngest } from '../../src/fleet/telemetry-ingest.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics/metrics-registry.js';
import { enrollDevice } from '../helpers/devices.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { startTestHub } from '../helpers/test-hub.js';

const sample = (deviceId: string, atMs: number) => ({ deviceId, atMs, telemetry: { cpuPercent: 5, charging: false, activeVersionId: '' } });

describe('telemetry ingest metrics', () => {
  it("a hub's /metrics shows the samples queued, then written, as a gauge and counters", async () => {
    const testHub = await startTestHub({ listen: false });
    const device = await enrollDevice(testHub);
    const scrape = async () => parsePrometheusText((await testHub.hub.inject({ method: 'GET', url: '/metrics' })).body);
    for (let i = 0; i < 3; i++) testHub.hub.fleet.telemetry.add(sample(device.deviceId, 1000 + i));
    let families = await scrape();
    expect(families.get('fedfleet_telemetry_queue_depth')?.type).toBe('gauge');
    expect(families.get('fedfleet_telemetry_dropped_total')?.type).toBe('counter');
    expect(sampleValue(families, 'fedfleet_telemetry_queue_depth')).toBe(3);
    expect(sampleValue(families, 'fedfleet_telemetry_written_total')).toBe(0);
    testHub.hub.fleet.telemetry.flush();
    families = await scrape();
    expect(sampleValue(families, 'fedfleet_telemetry_queue_depth')).toBe(0);
    expect(sampleValue(families, 'fedfleet_telemetry_written_total')).toBe(3);
    expect(sampleValue(families, 'fedfleet_telemetry_dropped_total')).toBe(0);
  });

  it('counts the samples a full queue drops', async () => {
    const testHub = await startTestHub({ listen: false });
    const device = await enrollDevice(testHub);
    const ingest = createTelemetryIngest({
      db: testHub.hub.store.db, clock: createManualClock(), log: createLogger('silent'), retentionHours: 1, maxQueueSamples: 2, batchSize: 100,
    });
    const registry = createMetricsRegistry();
    registerFleetMetrics({
      registry, db: testHub.hub.store.db, telemetry: ingest,
      devices: { countByStatus: () => ({ online: 0, offline: 0 }), countByLabel: () => [] },
      liveness: { onlineCount: () => 0 }, broker: { sessionCount: () => 0 },
    });
    for (let i = 0; i < 5; i++) ingest.add(sample(device.deviceId, 1000 + i));
    let families = parsePrometheusText(await registry.render());
    expect(sampleValue(families, 'fedfleet_telemetry_dropped_total')).toBe(3);
    expect(sampleValue(families, 'fedfleet_telemetry_queue_depth')).toBe(2);
    ingest.flush();
    ingest.add(sample(device.deviceId, 500)); // older than what is stored: kept as latest only
    ingest.flush();
    families = parsePrometheusText(await registry.render());
    expect(sampleValue(families, 'fedfleet_telemetry_written_total')).toBe(3);
    expect(sampleValue(families, 'fedfleet_telemetry_out_of_order_total')).toBe(1);
    expect(sampleValue(families, 'fedfleet_telemetry_dropped_total')).toBe(3);
  });
});
