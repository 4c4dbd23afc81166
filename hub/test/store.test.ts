import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '../src/clock.js';
import { openDatabase } from '../src/store/database.js';
import { listMigrations, migrate, MIGRATIONS_DIR } from '../src/store/migrate.js';
import { openStore } from '../src/store/store.js';
import { startTestHub, tempDataDir } from './helpers/test-hub.js';

describe('migrations', () => {
  it('apply once, in order, and are idempotent across restarts', async () => {
    const dataDir = tempDataDir();
    const first = openStore({ dataDir, clock: systemClock });
    expect(first.migrations.applied).toEqual(listMigrations().map((m) => m.name));
    expect(first.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(first.db.pragma('foreign_keys', { simple: true })).toBe(1);
    first.close();
    const second = openStore({ dataDir, clock: systemClock });
    expect(second.migrations.applied).toEqual([]);
    const rows = second.db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(listMigrations().map((m) => ({ version: m.version, name: m.name })));
    second.close();

    // A whole hub restarted on the same data dir keeps its devices.
    const hubA = await startTestHub({ dataDir, listen: false });
    const created = await hubA.api<{ id: string }>('POST', '/v1/enrollment-tokens', {});
    await hubA.hub.close();
    const hubB = await startTestHub({ dataDir, listen: false });
    expect((await hubB.api<Array<{ id: string }>>('GET', '/v1/enrollment-tokens')).body.map((t) => t.id)).toEqual([created.body.id]);
  });

  it('reads any numbered file in the folder and rolls a failing one back entirely', () => {
    const dir = join(tempDataDir(), 'migrations');
    mkdirSync(dir);
    for (const file of readdirSync(MIGRATIONS_DIR)) writeFileSync(join(dir, file), readFileSync(join(MIGRATIONS_DIR, file)));
    const last = Math.max(...listMigrations().map((m) => m.version));
    const good = `${String(last + 1).padStart(3, '0')}_extra.sql`;
    const broken = `${String(last + 2).padStart(3, '0')}_broken.sql`;
    writeFileSync(join(dir, good), 'CREATE TABLE extra (id TEXT PRIMARY KEY);');
    writeFileSync(join(dir, broken), 'CREATE TABLE half (id TEXT); THIS IS NOT SQL;');
    writeFileSync(join(dir, 'README.md'), 'ignored');
    const db = openDatabase(join(tempDataDir(), 'x.db'));
    try {
      expect(() => migrate(db, dir)).toThrow(expect.objectContaining({ code: 'HUB_ERR_MIGRATION_FAILED', message: expect.stringContaining(broken) }));
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name);
      expect(tables).toContain('extra');
      expect(tables).not.toContain('half');
      expect((db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v).toBe(last + 1);
      writeFileSync(join(dir, broken), 'CREATE TABLE half (id TEXT);');
      expect(migrate(db, dir).applied).toEqual([broken]);
    } finally {
      db.close();
    }
  });

  it('refuses a database migrated by newer code', () => {
    const db = openDatabase(join(tempDataDir(), 'x.db'));
    try {
      migrate(db);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (999, ?, 0)').run('999_future.sql');
      expect(() => migrate(db)).toThrow(expect.objectContaining({ code: 'HUB_ERR_MIGRATION_FAILED' }));
    } finally {
      db.close();
    }
  });
});

describe('blob store', () => {
  it('stores content-addressed, idempotently, and reads ranges', async () => {
    const dataDir = tempDataDir();
    const clock = createManualClock();
    const store = openStore({ dataDir, clock });
    try {
      const bytes = Buffer.from('hello, fleet');
      const sha = createHash('sha256').update(bytes).digest('hex');
      expect(store.blobs.has(sha)).toBe(false);
      expect(await store.blobs.get(sha)).toBeUndefined();
      expect(await store.blobs.put(bytes, 'text/plain')).toEqual({ sha256: sha, sizeBytes: bytes.length });
      expect(await store.blobs.put(bytes, 'text/plain')).toEqual({ sha256: sha, sizeBytes: bytes.length });
      const path = join(dataDir, 'blobs', sha.slice(0, 2), sha);
      expect(existsSync(path)).toBe(true);
      expect(statSync(path).size).toBe(bytes.length);
      expect(readdirSync(join(dataDir, 'blobs', 'tmp'))).toEqual([]);
      expect(store.blobs.info(sha)).toEqual({ sha256: sha, sizeBytes: bytes.length, mediaType: 'text/plain', createdAtMs: clock.now() });
      expect((await store.blobs.get(sha))!.toString()).toBe('hello, fleet');
      expect((await store.blobs.readRange(sha, 7, 100))!.toString()).toBe('fleet');
      expect((await store.blobs.readRange(sha, 0, 5))!.toString()).toBe('hello');
      expect((await store.blobs.readRange(sha, 50, 5))!.length).toBe(0);
      expect(await store.blobs.readRange('f'.repeat(64), 0, 5)).toBeUndefined();
      expect(store.blobs.has('../../etc/passwd')).toBe(false);
      const empty = await store.blobs.put(new Uint8Array(0), 'application/octet-stream');
      expect((await store.blobs.get(empty.sha256))!.length).toBe(0);
    } finally {
      store.close();
    }
  });
});
