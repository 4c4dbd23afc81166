/**
 * The hub's persistent state under one data directory: the SQLite database, its migrations, the blob store and
 * the grants of who may fetch from it, behind the directory's lock (one hub per directory, data-dir-lock.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { createArtifactGrants, type ArtifactGrants } from './artifact-grants.js';
import { createBlobStore, type BlobStore } from './blobs.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
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
  /** Which blobs each device may fetch (artifact-grants.ts). */
  readonly grants: ArtifactGrants;
  readonly settings: Settings;
  /** What opening the store migrated. */
  readonly migrations: MigrationResult;
  /** The data directory's lock, held until `close()`. */
  readonly lock: DataDirLock;
  /** Runs `fn` in one transaction (better-sqlite3 semantics: synchronous, nested calls become savepoints). */
  transaction<T>(fn: () => T): T;
  /** Closes the database, then releases the lock. */
  close(): void;
}

export interface OpenStoreOptions {
  dataDir: string;
  clock: Clock;
  /** Folder of migration files. Default: the hub's own. */
  migrationsDir?: string;
}

/**
 * Opens the store of `dataDir`, creating the directory if needed. Throws `HUB_ERR_DATA_DIR_LOCKED` when another
 * hub holds the directory: nothing in it has been written then.
 */
export function openStore(options: OpenStoreOptions): Store {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(options.dataDir, options.clock.now());
  let db: SqliteDatabase | undefined;
  let migrations: MigrationResult;
  try {
    db = openDatabase(join(options.dataDir, DATABASE_FILE));
    migrations = migrate(db, options.migrationsDir ?? MIGRATIONS_DIR);
  } catch (error) {
    db?.close();
    lock.release();
    throw error;
  }
  const grants = createArtifactGrants({ db, clock: options.clock });
  grants.prune();
  return {
    dataDir: options.dataDir,
    db,
    blobs: createBlobStore(db, join(options.dataDir, 'blobs'), options.clock),
    grants,
    settings: createSettings(db, options.clock),
    migrations,
    lock,
    transaction: (fn) => db.transaction(fn)(),
    close: () => {
      if (db.open) db.close();
      lock.release();
    },
  };
}
