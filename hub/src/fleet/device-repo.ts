/** Devices and their labels in SQLite. Revoked devices keep their row (history) but are invisible here. */
import type { SqliteDatabase } from '../store/database.js';
import { timeColumn } from '../store/row-values.js';
import { selectorToSql, type LabelSelector } from './label-selector.js';
import { sortLabels, type Labels } from './labels.js';
import { storedProfile } from './stored-profile.js';

export type DeviceStatus = 'online' | 'offline';

export interface DeviceProfile {
  kind: string;
  ramBytes: number;
  flashBytes: number;
  cpuMhz: number;
  int8Only: boolean;
  canTrain: boolean;
  cores: number;
  arch: string;
}

export interface DeviceRecord {
  id: string;
  name: string;
  labels: Labels;
  profile: DeviceProfile;
  status: DeviceStatus;
  lastSeenMs: number | null;
  agentVersion: string | null;
  activeModelId: string | null;
  activeVersionId: string | null;
  /** Payload sha256 of the serving version, as the device's model store reports it. */
  activeSha256: string | null;
  /** The version the device would roll back to. */
  previousVersionId: string | null;
  /** The challenger the device runs in shadow beside the serving version. */
  shadowVersionId: string | null;
  /** The registry's model and version number of each version id above. */
  registryVersions: RegistryVersions;
  heartbeatSec: number | null;
  /** Local training examples the device declared in its latest Status; null = not declared. */
  trainExamples: number | null;
  createdAtMs: number;
}

/** A version as the model registry names it: model name and version number. */
export interface RegistryVersion {
  model: string;
  version: number;
}

/**
 * What the model registry calls the versions a device reports, for people reading `devices ls|show`; null where the
 * device reports none or the registry does not hold it (a bundle made by another hub).
 */
export interface RegistryVersions {
  active: RegistryVersion | null;
  previous: RegistryVersion | null;
  shadow: RegistryVersion | null;
}

export interface NewDevice {
  id: string;
  name: string;
  labels: Labels;
  profile: DeviceProfile;
  enrollmentTokenId: string;
  createdAtMs: number;
}

/** Fields a device reports in its Status. */
export interface ReportedState {
  agentVersion: string;
  activeModelId: string;
  activeVersionId: string;
  /** '' = not reported, as for the ids above. */
  activeSha256: string;
  previousVersionId: string;
  shadowVersionId: string;
  heartbeatSec: number | null;
  profile: DeviceProfile | undefined;
  /** Declared local training examples; null = not declared (replaces an earlier declaration). */
  trainExamples: number | null;
}

export interface DeviceQuery {
  selector?: LabelSelector;
  status?: DeviceStatus;
  limit?: number;
  offset?: number;
}

interface DeviceRow {
  id: string;
  name: string;
  labels: string;
  profile: string;
  status: DeviceStatus;
  last_seen_ms: number | null;
  agent_version: string | null;
  active_model_id: string | null;
  active_version_id: string | null;
  active_sha256: string | null;
  previous_version_id: string | null;
  shadow_version_id: string | null;
  active_registry: string | null;
  previous_registry: string | null;
  shadow_registry: string | null;
  heartbeat_sec: number | null;
  train_examples: number | null;
  created_at_ms: number;
}

/** `{"model","version"}` JSON of the version whose id is in `column` (NULL when the registry does not hold it). */
const registryVersionOf = (column: string, alias: string) => `(SELECT json_object('model', m.name, 'version', v.version)
  FROM model_versions v JOIN models m ON m.id = v.model_id WHERE v.id = d.${column}) AS ${alias}`;

// The registry's names are read here, beside the ids, rather than by the caller per device: a listing of 10,000
// devices stays one query.
const DEVICE_COLUMNS = `d.id, d.name, d.profile, d.status, d.last_seen_ms, d.agent_version, d.active_model_id,
  d.active_version_id, d.active_sha256, d.previous_version_id, d.shadow_version_id, d.heartbeat_sec,
  d.train_examples, d.created_at_ms,
  ${registryVersionOf('active_version_id', 'active_registry')}, ${registryVersionOf('previous_version_id', 'previous_registry')},
  ${registryVersionOf('shadow_version_id', 'shadow_registry')},
  (SELECT json_group_object(l.key, l.value) FROM device_labels l WHERE l.device_id = d.id) AS labels`;

const registryVersion = (json: string | null): RegistryVersion | null => (json === null ? null : (JSON.parse(json) as RegistryVersion));

function toRecord(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    name: row.name,
    labels: sortLabels(JSON.parse(row.labels ?? '{}') as Labels),
    profile: storedProfile(row.profile),
    status: row.status,
    lastSeenMs: row.last_seen_ms === null ? null : timeColumn(row.last_seen_ms, 'last_seen_ms', []),
    agentVersion: row.agent_version,
    activeModelId: row.active_model_id,
    activeVersionId: row.active_version_id,
    activeSha256: row.active_sha256,
    previousVersionId: row.previous_version_id,
    shadowVersionId: row.shadow_version_id,
    registryVersions: {
      active: registryVersion(row.active_registry),
      previous: registryVersion(row.previous_registry),
      shadow: registryVersion(row.shadow_registry),
    },
    heartbeatSec: row.heartbeat_sec,
    trainExamples: row.train_examples,
    createdAtMs: timeColumn(row.created_at_ms, 'created_at_ms', []),
  };
}

export interface DeviceRepo {
  insert(device: NewDevice): void;
  get(id: string): DeviceRecord | undefined;
  exists(id: string): boolean;
  list(query?: DeviceQuery): { devices: DeviceRecord[]; total: number };
  /** Sets and removes labels; returns the resulting labels. */
  changeLabels(id: string, set: Readonly<Labels>, remove: readonly string[]): Labels;
  rename(id: string, name: string): void;
  setStatus(id: string, status: DeviceStatus, lastSeenMs: number): void;
  setReportedState(id: string, state: ReportedState): void;
  setLastSeen(entries: ReadonlyArray<readonly [id: string, lastSeenMs: number]>): void;
  /** Marks every device offline (at start: no session survives a restart of the embedded broker). */
  markAllOffline(): number;
  markRevoked(id: string, atMs: number): boolean;
  countByStatus(): Record<DeviceStatus, number>;
  countByLabel(): Array<{ key: string; value: string; status: DeviceStatus; count: number }>;
}

export function createDeviceRepo(db: SqliteDatabase): DeviceRepo {
  const insertDevice = db.prepare(
    `INSERT INTO devices (id, name, profile, enrollment_token_id, created_at_ms) VALUES (?, ?, ?, ?, ?)`,
  );
  const insertLabel = db.prepare(
    `INSERT INTO device_labels (device_id, key, value) VALUES (?, ?, ?)
     ON CONFLICT (device_id, key) DO UPDATE SET value = excluded.value`,
  );
  const deleteLabel = db.prepare('DELETE FROM device_labels WHERE device_id = ? AND key = ?');
  const selectOne = db.prepare<[string], DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices d WHERE d.id = ? AND d.revoked_at_ms IS NULL`);
  const selectExists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM devices WHERE id = ? AND revoked_at_ms IS NULL');
  const selectLabels = db.prepare<[string], { key: string; value: string }>('SELECT key, value FROM device_labels WHERE device_id = ?');
  const updateName = db.prepare('UPDATE devices SET name = ? WHERE id = ? AND revoked_at_ms IS NULL');
  const updateStatus = db.prepare('UPDATE devices SET status = ?, last_seen_ms = MAX(COALESCE(last_seen_ms, 0), ?) WHERE id = ? AND revoked_at_ms IS NULL');
  const updateReported = db.prepare(
    `UPDATE devices SET agent_version = ?, active_model_id = ?, active_version_id = ?, active_sha256 = ?,
       previous_version_id = ?, shadow_version_id = ?,
       heartbeat_sec = COALESCE(?, heartbeat_sec), profile = COALESCE(?, profile), train_examples = ?
     WHERE id = ? AND revoked_at_ms IS NULL`,
  );
  const updateLastSeen = db.prepare('UPDATE devices SET last_seen_ms = MAX(COALESCE(last_seen_ms, 0), ?) WHERE id = ?');
  const updateAllOffline = db.prepare(`UPDATE devices SET status = 'offline' WHERE status = 'online'`);
  const updateRevoked = db.prepare(`UPDATE devices SET revoked_at_ms = ?, status = 'offline' WHERE id = ? AND revoked_at_ms IS NULL`);
  const selectStatusCounts = db.prepare<[], { status: DeviceStatus; count: number }>(
    `SELECT status, COUNT(*) AS count FROM devices WHERE revoked_at_ms IS NULL GROUP BY status`,
  );
  const selectLabelCounts = db.prepare<[], { key: string; value: string; status: DeviceStatus; count: number }>(
    `SELECT l.key, l.value, d.status, COUNT(*) AS count FROM device_labels l JOIN devices d ON d.id = l.device_id
     WHERE d.revoked_at_ms IS NULL GROUP BY l.key, l.value, d.status ORDER BY l.key, l.value`,
  );

  return {
    insert(device) {
      insertDevice.run(device.id, device.name, JSON.stringify(device.profile), device.enrollmentTokenId, device.createdAtMs);
      for (const [key, value] of Object.entries(device.labels)) insertLabel.run(device.id, key, value);
    },
    get(id) {
      const row = selectOne.get(id);
      return row && toRecord(row);
    },
    exists: (id) => selectExists.get(id) !== undefined,
    list(query = {}) {
      const where = ['d.revoked_at_ms IS NULL'];
      const params: Array<string | number> = [];
      if (query.selector && query.selector.length > 0) {
        const condition = selectorToSql(query.selector);
        where.push(condition.sql);
        params.push(...condition.params);
      }
      if (query.status) {
        where.push('d.status = ?');
        params.push(query.status);
      }
      const whereSql = where.join(' AND ');
      const total = (db.prepare(`SELECT COUNT(*) AS count FROM devices d WHERE ${whereSql}`).get(...params) as { count: number }).count;
      const rows = db
        .prepare(`SELECT ${DEVICE_COLUMNS} FROM devices d WHERE ${whereSql} ORDER BY d.created_at_ms, d.id LIMIT ? OFFSET ?`)
        .all(...params, query.limit ?? -1, query.offset ?? 0) as DeviceRow[];
      return { devices: rows.map(toRecord), total };
    },
    changeLabels(id, set, remove) {
      return db.transaction(() => {
        for (const key of remove) deleteLabel.run(id, key);
        for (const [key, value] of Object.entries(set)) insertLabel.run(id, key, value);
        return sortLabels(Object.fromEntries(selectLabels.all(id).map((row) => [row.key, row.value])));
      })();
    },
    rename: (id, name) => void updateName.run(name, id),
    setStatus: (id, status, lastSeenMs) => void updateStatus.run(status, lastSeenMs, id),
    setReportedState(id, state) {
      updateReported.run(
        state.agentVersion || null,
        state.activeModelId || null,
        state.activeVersionId || null,
        state.activeSha256 || null,
        state.previousVersionId || null,
        state.shadowVersionId || null,
        state.heartbeatSec,
        state.profile ? JSON.stringify(state.profile) : null,
        state.trainExamples,
        id,
      );
    },
    setLastSeen(entries) {
      if (entries.length === 0) return;
      db.transaction(() => {
        for (const [id, lastSeenMs] of entries) updateLastSeen.run(lastSeenMs, id);
      })();
    },
    markAllOffline: () => updateAllOffline.run().changes,
    markRevoked: (id, atMs) => updateRevoked.run(atMs, id).changes > 0,
    countByStatus() {
      const counts: Record<DeviceStatus, number> = { online: 0, offline: 0 };
      for (const row of selectStatusCounts.all()) counts[row.status] = row.count;
      return counts;
    },
    countByLabel: () => selectLabelCounts.all(),
  };
}
