/** Opens the hub's SQLite database with the settings every connection needs. */
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

/**
 * Opens (creating if needed) `path` in WAL mode with foreign keys enforced. `synchronous = NORMAL` is durable
 * across process crashes in WAL mode; only an OS crash may lose the last transactions.
 */
export function openDatabase(path: string): SqliteDatabase {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
}
