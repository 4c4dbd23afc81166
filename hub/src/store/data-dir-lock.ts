/**
 * One hub per data directory. Two hubs on one directory corrupt each other's view of the fleet (the second marks
 * every device of the first offline at start), so the store takes this lock before it writes anything.
 *
 * The lock is an OS file lock, not a pid file: SQLite's EXCLUSIVE lock on `hub.lock` (a POSIX advisory lock on
 * Unix, LockFileEx on Windows) is held for as long as the hub's connection to that file is open and is released by
 * the kernel when the process ends in any way, SIGKILL and crashes included. So a lock left by a dead hub is never
 * stale, and there is no pid liveness or pid reuse to guess about (a pid from another container or host would be
 * meaningless anyway). Who holds the lock is written next to it, in `hub.lock.json`, only to name that hub in the
 * refusal message.
 *
 * Never open `hub.lock` with anything but SQLite in the hub process: closing any other descriptor of the file
 * would drop the process's POSIX locks on it.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CONFIG_SOURCES } from '../config.js';
import { HubError } from '../errors.js';

export const LOCK_FILE = 'hub.lock';
export const LOCK_HOLDER_FILE = 'hub.lock.json';

/** What a locked data directory says about the hub holding it. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO 8601 time the hub took the lock. */
  startedAt: string;
  /** Where it listens, once it does. */
  httpUrl?: string;
  mqttUrl?: string;
}

export interface DataDirLock {
  readonly dataDir: string;
  /** Adds the hub's addresses to what a refused second hub is told. */
  recordAddresses(addresses: { httpUrl: string; mqttUrl: string }): void;
  /** Releases the lock (idempotent). */
  release(): void;
}

/**
 * Takes the data directory's lock, which must exist. Throws {@link HubError} `HUB_ERR_DATA_DIR_LOCKED`, naming
 * the holder, when another hub (in this process or another) holds it.
 */
export function lockDataDir(dataDir: string, startedAtMs: number): DataDirLock {
  // timeout 0: a held lock is an answer, not something to wait out.
  const db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    // An EXCLUSIVE transaction that never ends holds the file's exclusive lock until the connection closes.
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new HubError('HUB_ERR_DATA_DIR_LOCKED', { message: lockedMessage(dataDir, readHolder(dataDir)), cause: error });
    }
    throw error;
  }
  const holderPath = join(dataDir, LOCK_HOLDER_FILE);
  let holder: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: new Date(startedAtMs).toISOString() };
  writeHolder(holderPath, holder);
  let held = true;
  return {
    dataDir,
    recordAddresses({ httpUrl, mqttUrl }) {
      if (!held) return;
      holder = { ...holder, httpUrl, mqttUrl };
      writeHolder(holderPath, holder);
    },
    release() {
      if (!held) return;
      held = false;
      // The description goes first: whoever takes the lock next writes its own.
      rmSync(holderPath, { force: true });
      db.close();
    },
  };
}

/** Written whole or not at all: a reader never sees half a file. */
function writeHolder(path: string, holder: LockHolder): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

function readHolder(dataDir: string): Partial<LockHolder> | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(dataDir, LOCK_HOLDER_FILE), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Partial<LockHolder>) : undefined;
  } catch {
    return undefined; // not written yet, or being replaced: the message says less
  }
}

function lockedMessage(dataDir: string, holder: Partial<LockHolder> | undefined): string {
  const { flag, env } = CONFIG_SOURCES.dataDir;
  const parts: string[] = [];
  if (typeof holder?.pid === 'number') {
    const here = holder.pid === process.pid && holder.hostname === hostname();
    parts.push(`pid ${holder.pid}${here ? ' (this process)' : ''}${holder.hostname ? ` on ${holder.hostname}` : ''}`);
  }
  if (typeof holder?.startedAt === 'string') parts.push(`started ${holder.startedAt}`);
  if (typeof holder?.httpUrl === 'string') parts.push(`HTTP ${holder.httpUrl}`);
  if (typeof holder?.mqttUrl === 'string') parts.push(`MQTT ${holder.mqttUrl}`);
  const who = parts.length > 0 ? `another hub (${parts.join(', ')})` : 'another hub';
  return `data directory ${dataDir} is in use by ${who}; stop that hub, or give this one its own ${flag} (${env})`;
}
