/**
 * The fleet's gauges on `/metrics`, computed from the store when scraped (cheap indexed GROUP BY queries, nothing
 * kept by hand): devices by status, by label and by the model version they serve, the live online count, MQTT
 * sessions, and the telemetry ingest's counts. Label gauges are bounded (hub/docs/metrics.md#cardinality): device
 * labels are free-form, and a time series per distinct value would let a fleet of unique `serial=…` labels swamp the
 * scraper.
 */
import type { Broker } from '../broker/broker.js';
import type { MetricsRegistry, GaugeSample } from '../metrics/metrics-registry.js';
import type { SqliteDatabase } from '../store/database.js';
import type { DeviceRepo, DeviceStatus } from './device-repo.js';
import type { Liveness } from './liveness.js';
import type { TelemetryIngest } from './telemetry-ingest.js';

/** Most label keys exported, the keys on most devices first (ties by name). */
export const MAX_LABEL_KEYS = 16;
/** Most values exported per key, the most common first (ties by value); the rest are summed into {@link OTHER_VALUE}. */
export const MAX_VALUES_PER_KEY = 20;
/** The `value` of the devices whose value of a key was not among its {@link MAX_VALUES_PER_KEY} most common. */
export const OTHER_VALUE = '__other__';
/** `model` and `version` of devices that serve no model version the registry knows. */
export const NO_VERSION = 'none';

export interface FleetMetricsDeps {
  registry: MetricsRegistry;
  db: SqliteDatabase;
  devices: Pick<DeviceRepo, 'countByStatus' | 'countByLabel'>;
  liveness: Pick<Liveness, 'onlineCount'>;
  broker: Pick<Broker, 'sessionCount'>;
  telemetry: Pick<TelemetryIngest, 'stats'>;
}

type LabelCount = { key: string; value: string; status: DeviceStatus; count: number };

/** Label counts cut to the bounds: per key, the most common values, and one `__other__` sum per status. */
export function boundedLabelCounts(rows: readonly LabelCount[]): GaugeSample[] {
  const byKey = new Map<string, Map<string, { total: number; byStatus: Map<DeviceStatus, number> }>>();
  for (const row of rows) {
    let values = byKey.get(row.key);
    if (!values) byKey.set(row.key, (values = new Map()));
    let entry = values.get(row.value);
    if (!entry) values.set(row.value, (entry = { total: 0, byStatus: new Map() }));
    entry.total += row.count;
    entry.byStatus.set(row.status, (entry.byStatus.get(row.status) ?? 0) + row.count);
  }
  const sum = (values: Map<string, { total: number }>) => [...values.values()].reduce((s, v) => s + v.total, 0);
  const keys = [...byKey.entries()].sort(([a, va], [b, vb]) => sum(vb) - sum(va) || (a < b ? -1 : 1)).slice(0, MAX_LABEL_KEYS);
  const samples: GaugeSample[] = [];
  for (const [key, values] of keys) {
    const ranked = [...values.entries()].sort(([a, va], [b, vb]) => vb.total - va.total || (a < b ? -1 : 1));
    const other = new Map<DeviceStatus, number>();
    ranked.forEach(([value, { byStatus }], rank) => {
      for (const [status, count] of byStatus) {
        if (rank < MAX_VALUES_PER_KEY) samples.push({ labels: { key, value, status }, value: count });
        else other.set(status, (other.get(status) ?? 0) + count);
      }
    });
    for (const [status, count] of other) samples.push({ labels: { key, value: OTHER_VALUE, status }, value: count });
  }
  return samples;
}

export function registerFleetMetrics({ registry, db, devices, liveness, broker, telemetry }: FleetMetricsDeps): void {
  const selectByVersion = db.prepare<[], { model: string | null; version: number | null; count: number }>(
    `SELECT m.name AS model, v.version AS version, COUNT(*) AS count FROM devices d
     LEFT JOIN model_versions v ON v.id = d.active_version_id LEFT JOIN models m ON m.id = v.model_id
     WHERE d.revoked_at_ms IS NULL GROUP BY m.name, v.version`,
  );

  registry.gauge('fedfleet_devices_online', 'Devices currently online.', () => liveness.onlineCount());
  // The ingest's own counts (telemetry-ingest.ts): a growing dropped total means the store falls behind.
  registry.counterFrom('fedfleet_telemetry_written_total', 'Telemetry samples committed to the store.', () => telemetry.stats().written);
  registry.counterFrom('fedfleet_telemetry_dropped_total', 'Telemetry samples dropped because the write queue was full.', () => telemetry.stats().dropped);
  registry.counterFrom(
    'fedfleet_telemetry_out_of_order_total', 'Telemetry samples kept only as latest: older than the newest stored.', () => telemetry.stats().outOfOrder,
  );
  registry.gauge('fedfleet_telemetry_queue_depth', 'Telemetry samples waiting in the write queue.', () => telemetry.stats().queued);
  registry.gauge('fedfleet_mqtt_sessions', 'Open device MQTT sessions.', () => broker.sessionCount());
  registry.gauge(
    'fedfleet_devices',
    'Enrolled devices (not revoked), by status.',
    () => Object.entries(devices.countByStatus()).map(([status, count]) => ({ labels: { status }, value: count })),
    ['status'],
  );
  registry.gauge(
    'fedfleet_devices_by_label',
    `Devices by label key, value and status (at most ${MAX_LABEL_KEYS} keys and ${MAX_VALUES_PER_KEY} values per key; the rest as ${OTHER_VALUE}).`,
    () => boundedLabelCounts(devices.countByLabel()),
    ['key', 'value', 'status'],
  );
  registry.gauge(
    'fedfleet_devices_by_version',
    'Devices by the model and version number they serve (none: no known version).',
    () =>
      selectByVersion.all().map((row) => ({
        labels: { model: row.model ?? NO_VERSION, version: row.version === null ? NO_VERSION : String(row.version) },
        value: row.count,
      })),
    ['model', 'version'],
  );
}
