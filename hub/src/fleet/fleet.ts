/**
 * The fleet registry as one service, decorated on the hub as `hub.fleet`: enrollment tokens, enrollment, devices
 * (list, show, relabel, revoke), liveness, telemetry and the fleet health summary. Operator actions are
 * audit-logged and announced as hub events.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { DeviceCredentials } from '../auth/device-credentials.js';
import type { Broker } from '../broker/broker.js';
import type { Clock } from '../clock.js';
import { HubError } from '../errors.js';
import type { HubEvents } from '../events/hub-events.js';
import type { DeviceQuery, DeviceRecord, DeviceRepo } from './device-repo.js';
import type { Enroll } from './enrollment.js';
import type { CreatedToken, EnrollmentToken, EnrollmentTokens } from './enrollment-tokens.js';
import { isLabelKey, MAX_LABELS, type Labels } from './labels.js';
import type { DevicePresence, Liveness } from './liveness.js';
import type { DeviceHealth, DeviceHealthStatus, DeviceJson, DevicePatch, FleetHealth } from './schemas.js';
import type { TelemetryIngest } from './telemetry-ingest.js';

/** A device's health as `GET /v1/devices` shows it; the health capability provides it (`Fleet.useHealth`). */
export type DeviceHealthSource = (device: Pick<DeviceRecord, 'id' | 'status'>) => DeviceHealth;

/** Until a health capability is plugged in: offline from liveness, healthy otherwise. */
const statusOnlyHealth: DeviceHealthSource = (device) =>
  device.status === 'offline' ? { status: 'offline', reasons: ['offline'] } : { status: 'healthy', reasons: [] };

export interface Fleet {
  readonly devices: DeviceRepo;
  readonly tokens: EnrollmentTokens;
  readonly liveness: Liveness;
  /** Whether a device is online, for the capabilities that pick devices (rounds, rollouts). */
  readonly presence: DevicePresence;
  readonly telemetry: TelemetryIngest;
  readonly enroll: Enroll;
  createToken(options: { labels: Labels; ttlSec: number; maxUses: number }, actor: string): CreatedToken;
  revokeToken(id: string, actor: string): EnrollmentToken;
  /** A device as the API shows it; throws HUB_ERR_DEVICE_NOT_FOUND. */
  getDevice(id: string): DeviceJson;
  /** `health` filters on the devices' health (after the repo's filters; paging applies to the result). */
  listDevices(query: DeviceQuery & { health?: DeviceHealthStatus }): { devices: DeviceJson[]; total: number };
  /** Makes device JSON carry the health `source` computes (hub/src/health plugs itself in here). */
  useHealth(source: DeviceHealthSource): void;
  updateDevice(id: string, patch: DevicePatch, actor: string): DeviceJson;
  /** Revokes credentials, drops the live session, clears the retained status; the device disappears from lists. */
  revokeDevice(id: string, actor: string): Promise<void>;
  health(): FleetHealth;
}

export interface FleetDeps {
  devices: DeviceRepo;
  tokens: EnrollmentTokens;
  liveness: Liveness;
  telemetry: TelemetryIngest;
  enroll: Enroll;
  credentials: Pick<DeviceCredentials, 'revoke'>;
  broker: Pick<Broker, 'revokeDevice'>;
  audit: AuditLog;
  events: HubEvents;
  clock: Clock;
  transaction<T>(fn: () => T): T;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function createFleet(deps: FleetDeps): Fleet {
  const { devices, tokens, liveness, telemetry, audit, events, clock } = deps;
  let healthOf = statusOnlyHealth;

  function toJson(record: DeviceRecord, health: DeviceHealth = healthOf(record)): DeviceJson {
    const live = liveness.state(record.id);
    const lastSeenMs = Math.max(record.lastSeenMs ?? 0, live?.lastSeenMs ?? 0);
    return {
      id: record.id,
      name: record.name,
      labels: record.labels,
      status: record.status,
      lastSeen: lastSeenMs > 0 ? iso(lastSeenMs) : null,
      telemetry: telemetry.latest(record.id)?.telemetry ?? null,
      profile: record.profile,
      agentVersion: record.agentVersion,
      activeModelId: record.activeModelId,
      activeVersionId: record.activeVersionId,
      activeSha256: record.activeSha256,
      previousVersionId: record.previousVersionId,
      shadowVersionId: record.shadowVersionId,
      registryVersions: record.registryVersions,
      createdAt: iso(record.createdAtMs),
      health,
    };
  }

  function requireDevice(id: string): DeviceRecord {
    const record = devices.get(id);
    if (!record) throw new HubError('HUB_ERR_DEVICE_NOT_FOUND', { message: `no device ${id}` });
    return record;
  }

  return {
    devices,
    tokens,
    liveness,
    presence: { isOnline: (deviceId) => liveness.isOnline(deviceId) },
    telemetry,
    enroll: deps.enroll,
    createToken(options, actor) {
      const created = tokens.create(options);
      audit.record({
        actor,
        action: 'token.created',
        target: created.id,
        details: { labels: created.labels, ttlSec: options.ttlSec, maxUses: created.maxUses, expiresAt: iso(created.expiresAtMs) },
      });
      return created;
    },
    revokeToken(id, actor) {
      const token = tokens.get(id);
      if (!token) throw new HubError('HUB_ERR_TOKEN_NOT_FOUND', { message: `no enrollment token ${id}` });
      if (tokens.revoke(id)) audit.record({ actor, action: 'token.revoked', target: id });
      return tokens.get(id)!;
    },
    getDevice: (id) => toJson(requireDevice(id)),
    listDevices({ health, ...query }) {
      if (!health) {
        const { devices: records, total } = devices.list(query);
        return { devices: records.map((record) => toJson(record)), total };
      }
      // Health is not a column: filter the repo's matches, then page (each health computed once: it reads the alerts).
      const offset = query.offset ?? 0;
      const matching = devices.list({ ...query, limit: undefined, offset: undefined }).devices
        .map((record) => ({ record, deviceHealth: healthOf(record) }))
        .filter(({ deviceHealth }) => deviceHealth.status === health);
      const page = matching.slice(offset, offset + (query.limit ?? matching.length));
      return { devices: page.map(({ record, deviceHealth }) => toJson(record, deviceHealth)), total: matching.length };
    },
    useHealth(source) {
      healthOf = source;
    },
    updateDevice(id, patch, actor) {
      const before = requireDevice(id);
      const set = patch.labels?.set ?? {};
      const remove = patch.labels?.remove ?? [];
      const conflicting = remove.filter((key) => Object.hasOwn(set, key));
      if (conflicting.length > 0) {
        throw new HubError('HUB_ERR_BAD_LABELS', { message: `labels both set and removed: ${conflicting.join(', ')}` });
      }
      const bad = remove.filter((key) => !isLabelKey(key));
      if (bad.length > 0) throw new HubError('HUB_ERR_BAD_LABELS', { message: `bad label keys: ${bad.join(', ')}` });
      const resulting = { ...before.labels, ...set };
      for (const key of remove) delete resulting[key];
      if (Object.keys(resulting).length > MAX_LABELS) {
        throw new HubError('HUB_ERR_BAD_LABELS', { message: `a device has at most ${MAX_LABELS} labels` });
      }
      const labelsChanged = Object.keys(set).length > 0 || remove.length > 0;
      deps.transaction(() => {
        if (patch.name !== undefined && patch.name !== before.name) {
          devices.rename(id, patch.name);
          audit.record({ actor, action: 'device.renamed', target: id, details: { from: before.name, to: patch.name } });
        }
        if (labelsChanged) {
          const labels = devices.changeLabels(id, set, remove);
          audit.record({ actor, action: 'device.relabelled', target: id, details: { set, remove, before: before.labels, after: labels } });
        }
      });
      const after = requireDevice(id);
      if (labelsChanged) events.emit('device.relabelled', { deviceId: id, labels: after.labels, at: iso(clock.now()) });
      return toJson(after);
    },
    async revokeDevice(id, actor) {
      const record = requireDevice(id);
      deps.transaction(() => {
        deps.credentials.revoke(id);
        devices.markRevoked(id, clock.now());
        audit.record({ actor, action: 'device.revoked', target: id, details: { name: record.name, labels: record.labels } });
      });
      await deps.broker.revokeDevice(id);
      liveness.forget(id);
      events.emit('device.revoked', { deviceId: id, actor, at: iso(clock.now()) });
    },
    health() {
      const byStatus = devices.countByStatus();
      const byLabel: FleetHealth['byLabel'] = {};
      for (const row of devices.countByLabel()) {
        const key = `${row.key}=${row.value}`;
        byLabel[key] ??= { online: 0, offline: 0 };
        byLabel[key][row.status] += row.count;
      }
      return { total: byStatus.online + byStatus.offline, byStatus, byLabel };
    },
  };
}
