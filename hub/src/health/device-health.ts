/**
 * Device health (hub/docs/health.md#device-health) and the fleet summary of `GET /v1/fleet/health`. A device is
 * offline when liveness says so, degraded while any alert of it other than `device-offline` is open (its reasons are
 * those alerts' messages), healthy otherwise. Computed when asked, from the alerts table: nothing to keep in step.
 */
import type { DeviceRecord, DeviceRepo } from '../fleet/device-repo.js';
import type { Fleet } from '../fleet/fleet.js';
import type { DeviceHealth } from '../fleet/schemas.js';
import type { AlertEngine } from './alert-engine.js';
import type { Alerts } from './alerts.js';
import type { AlertJson, FleetHealthSummary, HealthCounts, VersionHealth } from './schemas.js';

export interface DeviceHealthView {
  /** Health of a device record, from its open alerts. */
  healthOf(device: Pick<DeviceRecord, 'id' | 'status'>, openAlerts?: readonly AlertJson[]): DeviceHealth;
  fleetHealth(): FleetHealthSummary;
}

export interface DeviceHealthDeps {
  fleet: Pick<Fleet, 'health'> & { devices: Pick<DeviceRepo, 'list'> };
  alerts: Alerts;
  engine: Pick<AlertEngine, 'latestAccuracy'>;
}

export function createDeviceHealthView({ fleet, alerts, engine }: DeviceHealthDeps): DeviceHealthView {
  function healthOf(device: Pick<DeviceRecord, 'id' | 'status'>, openAlerts: readonly AlertJson[] = alerts.openForDevice(device.id)): DeviceHealth {
    if (device.status === 'offline') {
      const offline = openAlerts.find((alert) => alert.rule === 'device-offline');
      return { status: 'offline', reasons: [offline?.message ?? 'offline'] };
    }
    const reasons = openAlerts.filter((alert) => alert.rule !== 'device-offline').map((alert) => alert.message);
    return { status: reasons.length > 0 ? 'degraded' : 'healthy', reasons };
  }

  return {
    healthOf,
    fleetHealth() {
      const base = fleet.health();
      const openByDevice = new Map<string, AlertJson[]>();
      for (const alert of alerts.listOpen()) {
        if (alert.deviceId === null) continue;
        const list = openByDevice.get(alert.deviceId) ?? [];
        list.push(alert);
        openByDevice.set(alert.deviceId, list);
      }
      const health: HealthCounts = { healthy: 0, degraded: 0, offline: 0 };
      const byLabel: FleetHealthSummary['byLabel'] = {};
      const byVersion = new Map<string, VersionHealth & { accuracySum: number; accuracyCount: number }>();
      for (const device of fleet.devices.list().devices) {
        const status = healthOf(device, openByDevice.get(device.id) ?? []).status;
        health[status]++;
        for (const [key, value] of Object.entries(device.labels)) {
          const label = `${key}=${value}`;
          const entry = (byLabel[label] ??= { ...(base.byLabel[label] ?? { online: 0, offline: 0 }), healthy: 0, degraded: 0 });
          if (status !== 'offline') entry[status]++;
        }
        const versionKey = device.activeVersionId ?? '';
        let version = byVersion.get(versionKey);
        if (!version) {
          version = {
            modelId: device.activeModelId, versionId: device.activeVersionId, version: device.registryVersions.active?.version ?? null,
            devices: 0, healthy: 0, degraded: 0, offline: 0, meanAccuracy: null, accuracySum: 0, accuracyCount: 0,
          };
          byVersion.set(versionKey, version);
        }
        version.devices++;
        version[status]++;
        const latest = engine.latestAccuracy(device.id);
        if (latest && latest.versionId === device.activeVersionId) (version.accuracySum += latest.accuracy), version.accuracyCount++;
      }
      const versions = [...byVersion.values()]
        .sort((a, b) => b.devices - a.devices || String(a.versionId).localeCompare(String(b.versionId)))
        .map(({ accuracySum, accuracyCount, ...version }) => ({ ...version, meanAccuracy: accuracyCount > 0 ? accuracySum / accuracyCount : null }));
      const byRule = alerts.countOpenByRule();
      return {
        ...base,
        byLabel,
        health,
        openAlerts: { total: Object.values(byRule).reduce((sum, count) => sum + count, 0), byRule },
        byVersion: versions,
      };
    },
  };
}
