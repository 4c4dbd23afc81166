/**
 * Content-addressed artifact store: immutable files under `<dataDir>/blobs/<sha[0:2]>/<sha>`, each registered in
 * the `artifacts` table with its size and media type. Files are written atomically (temp file, fsync, rename), and
 * registered only once the file is in place, so a registered artifact is always complete.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Clock } from '../clock.js';
import type { SqliteDatabase } from './database.js';

export interface ArtifactInfo {
  sha256: string;
  sizeBytes: number;
  mediaType: string;
  createdAtMs: number;
}

export interface BlobStore {
  /** Stores `bytes` (idempotent) and registers it as an artifact. */
  put(bytes: Uint8Array, mediaType: string): Promise<{ sha256: string; sizeBytes: number }>;
  /** Whole content of a registered artifact, or undefined. */
  get(sha256: string): Promise<Buffer | undefined>;
  /** Up to `length` bytes from `offset` of a registered artifact (fewer at the end), or undefined when unknown. */
  readRange(sha256: string, offset: number, length: number): Promise<Buffer | undefined>;
  /** Whether the artifact is registered. */
  has(sha256: string): boolean;
  /** Registration record of an artifact, or undefined. */
  info(sha256: string): ArtifactInfo | undefined;
  /** Path of the file that holds `sha256` (whether or not it exists). */
  pathOf(sha256: string): string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function createBlobStore(db: SqliteDatabase, blobsDir: string, clock: Clock): BlobStore {
  mkdirSync(join(blobsDir, 'tmp'), { recursive: true });
  const selectInfo = db.prepare<[string], { sha256: string; size_bytes: number; media_type: string; created_at_ms: number }>(
    'SELECT sha256, size_bytes, media_type, created_at_ms FROM artifacts WHERE sha256 = ?',
  );
  const insert = db.prepare(
    'INSERT OR IGNORE INTO artifacts (sha256, size_bytes, media_type, created_at_ms) VALUES (?, ?, ?, ?)',
  );

  function pathOf(sha256: string): string {
    if (!isSha256Hex(sha256)) throw new TypeError(`not a sha256 hex digest: ${JSON.stringify(sha256)}`);
    return join(blobsDir, sha256.slice(0, 2), sha256);
  }

  function info(sha256: string): ArtifactInfo | undefined {
    if (!isSha256Hex(sha256)) return undefined;
    const row = selectInfo.get(sha256);
    return row && { sha256: row.sha256, sizeBytes: row.size_bytes, mediaType: row.media_type, createdAtMs: row.created_at_ms };
  }

  async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
    const tmp = join(blobsDir, 'tmp', `${randomBytes(8).toString('hex')}.part`);
    try {
      const handle = await open(tmp, 'wx', 0o644);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await mkdir(dirname(path), { recursive: true });
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  return {
    async put(bytes, mediaType) {
      const sha256 = sha256Hex(bytes);
      const path = pathOf(sha256);
      const existing = await stat(path).catch(() => undefined);
      if (!existing || existing.size !== bytes.byteLength) await writeAtomically(path, bytes);
      insert.run(sha256, bytes.byteLength, mediaType, clock.now());
      return { sha256, sizeBytes: bytes.byteLength };
    },
    async get(sha256) {
      if (!info(sha256)) return undefined;
      return readFile(pathOf(sha256));
    },
    async readRange(sha256, offset, length) {
      const artifact = info(sha256);
      if (!artifact) return undefined;
      const start = Math.max(0, Math.min(offset, artifact.sizeBytes));
      const size = Math.max(0, Math.min(length, artifact.sizeBytes - start));
      const buffer = Buffer.allocUnsafe(size);
      if (size === 0) return buffer;
      const handle = await open(pathOf(sha256), 'r');
      try {
        const { bytesRead } = await handle.read(buffer, 0, size, start);
        return bytesRead === size ? buffer : buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
    has: (sha256) => info(sha256) !== undefined,
    info,
    pathOf,
  };
}
