/** Small persistent key/value settings of the hub (e.g. the admin token hash). */
import type { Clock } from '../clock.js';
import type { SqliteDatabase } from './database.js';

export interface Settings {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

export function createSettings(db: SqliteDatabase, clock: Clock): Settings {
  const select = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  const upsert = db.prepare(
    `INSERT INTO settings (key, value, updated_at_ms) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at_ms = excluded.updated_at_ms`,
  );
  return {
    get: (key) => select.get(key)?.value,
    set: (key, value) => void upsert.run(key, value, clock.now()),
  };
}
