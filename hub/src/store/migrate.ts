/**
 * Schema migrations: numbered SQL files (`NNN_name.sql`) in one folder, each applied in its own transaction and
 * recorded in `schema_migrations`. Applying is idempotent; a database newer than the code, or a recorded
 * migration whose file was renamed, stops the hub instead of guessing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HubError } from '../errors.js';
import type { SqliteDatabase } from './database.js';

/** The folder shipped with the hub. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface MigrationFile {
  version: number;
  name: string;
  path: string;
}

export interface MigrationResult {
  /** Names of the migrations applied by this call, in order. */
  applied: string[];
  /** Highest version now recorded. */
  version: number;
}

const FILE_PATTERN = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/;

export function listMigrations(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  const files: MigrationFile[] = [];
  for (const entry of readdirSync(dir)) {
    const match = FILE_PATTERN.exec(entry);
    if (!match) continue;
    files.push({ version: Number(match[1]), name: entry, path: join(dir, entry) });
  }
  files.sort((a, b) => a.version - b.version);
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.version === files[i - 1]!.version) {
      throw new HubError('HUB_ERR_MIGRATION_FAILED', {
        message: `two migrations share version ${files[i]!.version}: ${files[i - 1]!.name}, ${files[i]!.name}`,
      });
    }
  }
  return files;
}

export function migrate(db: SqliteDatabase, dir: string = MIGRATIONS_DIR): MigrationResult {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at_ms INTEGER NOT NULL
  )`);
  const recorded = new Map(
    db
      .prepare<[], { version: number; name: string }>('SELECT version, name FROM schema_migrations')
      .all()
      .map((row) => [row.version, row.name]),
  );
  const files = listMigrations(dir);
  const known = new Set(files.map((file) => file.version));
  for (const [version, name] of recorded) {
    if (!known.has(version)) {
      throw new HubError('HUB_ERR_MIGRATION_FAILED', {
        message: `database has migration ${name}, which this hub does not know (database is newer than the code?)`,
      });
    }
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)');
  const applied: string[] = [];
  for (const file of files) {
    const recordedName = recorded.get(file.version);
    if (recordedName !== undefined) {
      if (recordedName !== file.name) {
        throw new HubError('HUB_ERR_MIGRATION_FAILED', {
          message: `migration ${file.version} was applied as ${recordedName} but the file is now ${file.name}`,
        });
      }
      continue;
    }
    const sql = readFileSync(file.path, 'utf8');
    try {
      db.transaction(() => {
        db.exec(sql);
        record.run(file.version, file.name, Date.now());
      })();
    } catch (error) {
      throw new HubError('HUB_ERR_MIGRATION_FAILED', {
        message: `migration ${file.name} failed: ${(error as Error).message}`,
        cause: error,
      });
    }
    applied.push(file.name);
  }
  const version = files.length > 0 ? files[files.length - 1]!.version : 0;
  return { applied, version };
}
