/** The audit log: one row per operator action (who, what, on what, details), append-only. */
import type { Clock } from '../clock.js';
import type { SqliteDatabase } from '../store/database.js';

export interface AuditEntry {
  id: number;
  atMs: number;
  /** Who acted: `admin` for the admin token, `device:<id>` for enrollment, `hub` for the hub itself. */
  actor: string;
  /** What was done, dotted: `token.created`, `device.relabelled`, `device.revoked`, … */
  action: string;
  /** What it was done to (a device or token id), if anything. */
  target: string | null;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  /** Most entries returned, newest first. Default 100. */
  limit?: number;
  /** Only entries with an id below this (paging backwards). */
  beforeId?: number;
  action?: string;
  target?: string;
}

export interface AuditLog {
  record(entry: { actor: string; action: string; target?: string; details?: Record<string, unknown> }): AuditEntry;
  list(query?: AuditQuery): AuditEntry[];
}

interface AuditRow {
  id: number;
  at_ms: number;
  actor: string;
  action: string;
  target: string | null;
  details: string;
}

export function createAuditLog(db: SqliteDatabase, clock: Clock): AuditLog {
  const insert = db.prepare('INSERT INTO audit_log (at_ms, actor, action, target, details) VALUES (?, ?, ?, ?, ?)');
  return {
    record({ actor, action, target, details = {} }) {
      const atMs = clock.now();
      const { lastInsertRowid } = insert.run(atMs, actor, action, target ?? null, JSON.stringify(details));
      return { id: Number(lastInsertRowid), atMs, actor, action, target: target ?? null, details };
    },
    list(query = {}) {
      const where: string[] = [];
      const params: Array<string | number> = [];
      if (query.beforeId !== undefined) {
        where.push('id < ?');
        params.push(query.beforeId);
      }
      if (query.action) {
        where.push('action = ?');
        params.push(query.action);
      }
      if (query.target) {
        where.push('target = ?');
        params.push(query.target);
      }
      const sql = `SELECT id, at_ms, actor, action, target, details FROM audit_log
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
      const rows = db.prepare(sql).all(...params, query.limit ?? 100) as AuditRow[];
      return rows.map((row) => ({
        id: row.id,
        atMs: row.at_ms,
        actor: row.actor,
        action: row.action,
        target: row.target,
        details: JSON.parse(row.details) as Record<string, unknown>,
      }));
    },
  };
}
