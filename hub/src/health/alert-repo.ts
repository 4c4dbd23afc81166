/**
 * The alerts table (migration 014): one row per occurrence, at most one open per (rule, subject) — the partial
 * unique index `alerts_one_open` enforces it, so {@link AlertRepo.open} is "open or refresh", never a duplicate.
 */
import { randomUUID } from 'node:crypto';
import type { SqliteDatabase } from '../store/database.js';
import type { AlertSeverity } from './alert-config.js';
import type { AlertJson, AlertListQuery } from './schemas.js';

interface AlertRow {
  id: string;
  rule: string;
  severity: AlertSeverity;
  subject: string;
  device_id: string | null;
  state: 'open' | 'resolved';
  message: string;
  value: number | null;
  threshold: number | null;
  opened_at_ms: number;
  last_seen_at_ms: number;
  resolved_at_ms: number | null;
  acknowledged_at_ms: number | null;
  acknowledged_by: string | null;
}

/** What a rule says about a subject when its condition holds. */
export interface AlertOccurrence {
  rule: string;
  subject: string;
  deviceId: string | null;
  severity: AlertSeverity;
  message: string;
  value: number | null;
  threshold: number | null;
}

export interface AlertRepo {
  /** Opens an alert, or refreshes the open one of (rule, subject): `created` tells which. */
  open(occurrence: AlertOccurrence, atMs: number): { alert: AlertJson; created: boolean };
  /** Resolves the open alert of (rule, subject); undefined when none was open. */
  resolve(rule: string, subject: string, atMs: number): AlertJson | undefined;
  /** Records an acknowledgement (the first one counts); undefined for an unknown id. */
  acknowledge(id: string, actor: string, atMs: number): { alert: AlertJson; changed: boolean } | undefined;
  get(id: string): AlertJson | undefined;
  list(query: Partial<AlertListQuery>): AlertJson[];
  /** Every open alert (for re-evaluation on start and for health). */
  listOpen(): AlertJson[];
  /** Open alerts of one device, oldest first. */
  listOpenForDevice(deviceId: string): AlertJson[];
  /** Open alerts by rule (the `fedfleet_alerts_open` gauge, the fleet summary). */
  countOpenByRule(): Record<string, number>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toJson(row: AlertRow): AlertJson {
  return {
    id: row.id, rule: row.rule, severity: row.severity, subject: row.subject, deviceId: row.device_id, state: row.state,
    message: row.message, value: row.value, threshold: row.threshold, openedAt: iso(row.opened_at_ms)!, lastSeenAt: iso(row.last_seen_at_ms)!,
    resolvedAt: iso(row.resolved_at_ms), acknowledgedAt: iso(row.acknowledged_at_ms), acknowledgedBy: row.acknowledged_by,
  };
}

export function createAlertRepo(db: SqliteDatabase): AlertRepo {
  const insert = db.prepare(
    `INSERT INTO alerts (id, rule, severity, subject, device_id, state, message, value, threshold, opened_at_ms, last_seen_at_ms)
     VALUES (@id, @rule, @severity, @subject, @deviceId, 'open', @message, @value, @threshold, @atMs, @atMs)`,
  );
  // A refresh keeps the first opening but shows the latest measurement; severity only escalates.
  const refresh = db.prepare(
    `UPDATE alerts SET last_seen_at_ms = @atMs, message = @message, value = @value,
       severity = CASE WHEN @severity = 'critical' THEN 'critical' ELSE severity END
     WHERE id = @id`,
  );
  const selectOpen = db.prepare<[string, string], AlertRow>(`SELECT * FROM alerts WHERE rule = ? AND subject = ? AND state = 'open'`);
  const selectById = db.prepare<[string], AlertRow>('SELECT * FROM alerts WHERE id = ?');
  const markResolved = db.prepare<[number, number, string]>(`UPDATE alerts SET state = 'resolved', resolved_at_ms = ?, last_seen_at_ms = ? WHERE id = ?`);
  const markAcked = db.prepare<[number, string, string]>(
    'UPDATE alerts SET acknowledged_at_ms = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at_ms IS NULL',
  );
  const selectAllOpen = db.prepare<[], AlertRow>(`SELECT * FROM alerts WHERE state = 'open' ORDER BY opened_at_ms, id`);
  const selectDeviceOpen = db.prepare<[string], AlertRow>(`SELECT * FROM alerts WHERE device_id = ? AND state = 'open' ORDER BY opened_at_ms, id`);
  const countOpen = db.prepare<[], { rule: string; count: number }>(`SELECT rule, COUNT(*) AS count FROM alerts WHERE state = 'open' GROUP BY rule`);

  const get = (id: string) => {
    const row = selectById.get(id);
    return row && toJson(row);
  };
  const open = db.transaction((occurrence: AlertOccurrence, atMs: number) => {
    const existing = selectOpen.get(occurrence.rule, occurrence.subject);
    if (existing) {
      refresh.run({ id: existing.id, atMs, message: occurrence.message, value: occurrence.value, severity: occurrence.severity });
      return { alert: get(existing.id)!, created: false };
    }
    const id = randomUUID();
    insert.run({ id, atMs, ...occurrence });
    return { alert: get(id)!, created: true };
  });

  return {
    open: (occurrence, atMs) => open(occurrence, atMs),
    resolve(rule, subject, atMs) {
      const row = selectOpen.get(rule, subject);
      if (!row) return undefined;
      markResolved.run(atMs, atMs, row.id);
      return get(row.id);
    },
    acknowledge(id, actor, atMs) {
      if (!selectById.get(id)) return undefined;
      const changed = markAcked.run(atMs, actor, id).changes > 0;
      return { alert: get(id)!, changed };
    },
    get,
    list(query) {
      const where: string[] = [];
      const params: Array<string | number> = [];
      if (query.state) (where.push('state = ?'), params.push(query.state));
      if (query.rule) (where.push('rule = ?'), params.push(query.rule));
      if (query.deviceId) (where.push('device_id = ?'), params.push(query.deviceId));
      const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY opened_at_ms DESC, rowid DESC LIMIT ?`;
      return (db.prepare(sql).all(...params, query.limit ?? 100) as AlertRow[]).map(toJson);
    },
    listOpen: () => selectAllOpen.all().map(toJson),
    listOpenForDevice: (deviceId) => selectDeviceOpen.all(deviceId).map(toJson),
    countOpenByRule: () => Object.fromEntries(countOpen.all().map((row) => [row.rule, row.count])),
  };
}
