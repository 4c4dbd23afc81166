/**
 * What `fedfleet fleet health` prints from `GET /v1/fleet/health`: the counts by status (every hub), and — from a hub
 * with the health capability (hub/docs/health.md) — devices by health, open alerts by rule, the versions in service
 * and health per label.
 */
import type { FleetHealth } from '../fleet/schemas.js';
import type { FleetHealthSummary } from '../health/schemas.js';
import type { HubClient } from './hub-client.js';
import { println, type CliIo } from './io.js';
import { countOf, formatTable } from './table.js';

/** The answer of an older hub has only the status counts; every other field is optional here. */
export type FleetHealthAnswer = FleetHealth & Partial<Omit<FleetHealthSummary, keyof FleetHealth>> & {
  byLabel: Record<string, FleetHealth['byLabel'][string] & { healthy?: number; degraded?: number }>;
};

/** Model names by id, fetched when the answer names a model not seen before (`digits@v3` reads better than an id). */
export function createModelNames(client: HubClient): (health: FleetHealthAnswer) => Promise<ReadonlyMap<string, string>> {
  const names = new Map<string, string>();
  return async (health) => {
    const unknown = (health.byVersion ?? []).some((v) => v.modelId !== null && !names.has(v.modelId));
    if (unknown) for (const model of await client.request<Array<{ id: string; name: string }>>('GET', '/v1/models')) names.set(model.id, model.name);
    return names;
  };
}

type VersionRow = NonNullable<FleetHealthAnswer['byVersion']>[number];

function versionName(v: VersionRow, models: ReadonlyMap<string, string>): string {
  if (v.versionId === null) return 'none';
  const model = v.modelId === null ? undefined : models.get(v.modelId);
  return model && v.version !== null ? `${model}@v${v.version}` : v.versionId;
}

export function printFleetHealth(io: CliIo, health: FleetHealthAnswer, models: ReadonlyMap<string, string>): void {
  println(io.stdout, `${countOf(health.total, 'device')}: ${health.byStatus.online} online, ${health.byStatus.offline} offline`);
  if (health.health) {
    const { healthy, degraded, offline } = health.health;
    println(io.stdout, `health: ${healthy} healthy, ${degraded} degraded, ${offline} offline`);
  }
  if (health.openAlerts) {
    const byRule = Object.entries(health.openAlerts.byRule).filter(([, n]) => n > 0).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
    const detail = byRule.map(([rule, n]) => `${rule} ${n}`).join(', ');
    println(io.stdout, `open alerts: ${health.openAlerts.total === 0 ? 'none' : `${health.openAlerts.total} (${detail})`}`);
  }
  if (health.byVersion && health.byVersion.length > 0) {
    println(io.stdout);
    println(io.stdout, formatTable(
      ['VERSION', 'DEVICES', 'HEALTHY', 'DEGRADED', 'OFFLINE', 'ACCURACY'],
      health.byVersion.map((v) => [
        versionName(v, models), v.devices, v.healthy, v.degraded, v.offline, v.meanAccuracy === null ? '-' : v.meanAccuracy.toFixed(3),
      ]),
    ));
  }
  const labels = Object.entries(health.byLabel);
  if (labels.length > 0) {
    println(io.stdout);
    const withHealth = labels.every(([, c]) => c.healthy !== undefined && c.degraded !== undefined);
    println(io.stdout, withHealth
      ? formatTable(['LABEL', 'ONLINE', 'OFFLINE', 'HEALTHY', 'DEGRADED'], labels.map(([label, c]) => [label, c.online, c.offline, c.healthy!, c.degraded!]))
      : formatTable(['LABEL', 'ONLINE', 'OFFLINE'], labels.map(([label, c]) => [label, c.online, c.offline])));
  }
}
