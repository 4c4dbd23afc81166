/** The hub's persistent state under one data directory: the SQLite database, its migrations and the blob store. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { createBlobStore, type BlobStore } from './blobs.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { migrate, MIGRATIONS_DIR, type MigrationResult } from './migrate.js';
import { createSettings, type Settings } from './settings.js';

export const DATABASE_FILE = 'fedfleet.db';

export interface Store {
  /** The data directory (absolute). */
  readonly dataDir: string;
  /** The database connection; repositories prepare their statements on it. */
  readonly db: SqliteDatabase;
  readonly blobs: BlobStore;
  readonly settings: Settings;
  /** What opening the store migrated. */
  readonly migrations: MigrationResult;
  /** Runs `fn` in one transaction (better-sqlite3 semantics: synchronous, nested calls become savepoints). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export interface OpenStoreOptions {
  dataDir: string;
  clock: Clock;
  /** Folder of migration files. Default: the hub's own. */
  migrationsDir?: string;
}

export function openStore(options: OpenStoreOptions): Store {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(join(options.dataDir, DATABASE_FILE));
  let migrations: MigrationResult;
  try {
    migrations = migrate(db, options.migrationsDir ?? MIGRATIONS_DIR);
  } catch (error) {
    db.close();
    throw error;
  }
  return {
    dataDir: options.dataDir,
    db,
    blobs: createBlobStore(db, join(options.dataDir, 'blobs'), options.clock),
    settings: createSettings(db, options.clock),
    migrations,
    transaction: (fn) => db.transaction(fn)(),
    close: () => {
      if (db.open) db.close();
    },
  };
}
