/**
 * Writes that survive a power loss: data reaches the disk before the name that points to it, and the name before
 * the caller goes on. POSIX rename(2) replaces a name atomically, but neither the file's blocks nor the directory
 * entry are durable until fsync'd — ext4 with delayed allocation can otherwise leave a zero-length file behind a
 * renamed name after a crash.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Prefix of every temporary name the model store creates; open() deletes what a crash left behind. */
export const TEMP_PREFIX = '.tmp-';

/** A fresh temporary path next to `path` (same directory, so the rename stays on one file system). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${randomBytes(6).toString('hex')}`);
}

/** Deletes the temp files and directories a crash left directly in `dir`; returns how many there were. */
export async function removeTempLitter(dir: string): Promise<number> {
  const litter = (await readdir(dir)).filter((name) => name.startsWith(TEMP_PREFIX));
  for (const name of litter) await rm(join(dir, name), { recursive: true, force: true });
  return litter.length;
}

/** Writes `bytes` to `path` (created or truncated) and fsyncs the file. */
export async function writeFileSynced(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a directory, so the entries created, renamed or removed in it are durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `bytes` atomically: a reader (or the next process after a crash) sees the old content or
 * the new one, never a mix. `beforeRename` runs once the temp file is durable (a crash point for tests).
 */
export async function replaceFileAtomically(path: string, bytes: Uint8Array, beforeRename?: () => void): Promise<void> {
  const temp = tempPathFor(path);
  await writeFileSynced(temp, bytes);
  beforeRename?.();
  await rename(temp, path);
  await syncDir(dirname(path));
}
