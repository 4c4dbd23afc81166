/**
 * The store's content-addressed blobs: `<dir>/blobs/<payload sha256>/{manifest.json, signature, payload}`. A blob
 * appears under its final name only complete and durable (written in a temp directory, fsync'd, renamed), and
 * disappears by first being renamed to a temp name, so a crash at any point leaves either a whole blob or litter
 * with the temp prefix, which the store's open() removes (durable-fs.ts `removeTempLitter`).
 */
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir, tempPathFor, writeFileSynced } from './durable-fs.js';

export interface BlobFiles {
  manifest: Uint8Array;
  signature: Uint8Array;
  payload: Uint8Array;
}

const FILES = { manifest: 'manifest.json', signature: 'signature', payload: 'payload' } as const;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export class BlobDir {
  readonly dir: string;

  constructor(storeDir: string) {
    this.dir = join(storeDir, 'blobs');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new TypeError(`not a sha256 hex digest: ${JSON.stringify(sha256)}`);
    return join(this.dir, sha256);
  }

  /** The three files of a blob, or undefined when any is missing. */
  async read(sha256: string): Promise<BlobFiles | undefined> {
    const path = this.pathOf(sha256);
    try {
      const [manifest, signature, payload] = await Promise.all([
        readFile(join(path, FILES.manifest)), readFile(join(path, FILES.signature)), readFile(join(path, FILES.payload)),
      ]);
      return { manifest: new Uint8Array(manifest), signature: new Uint8Array(signature), payload: new Uint8Array(payload) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Stores a blob under `sha256` (the caller verified the payload hashes to it). An existing blob of that name is
   * kept: it holds the same payload, and versions with byte-identical payloads share it.
   * @param step crash point between the durable temp directory and its rename.
   */
  async write(sha256: string, files: BlobFiles, step?: (name: string) => void): Promise<void> {
    const final = this.pathOf(sha256);
    if (await this.read(sha256)) return;
    // A directory without all three files is the leftover of a failed removal: replace it.
    await this.remove(sha256);
    const temp = tempPathFor(final);
    await mkdir(temp);
    for (const key of Object.keys(FILES) as (keyof BlobFiles)[]) await writeFileSynced(join(temp, FILES[key]), files[key]);
    await syncDir(temp);
    step?.('blob-temp-written');
    await rename(temp, final);
    await syncDir(this.dir);
  }

  /** Removes a blob: renamed away first (atomic), so a crash mid-delete leaves only temp litter. */
  async remove(sha256: string, step?: (name: string) => void): Promise<void> {
    const trash = tempPathFor(this.pathOf(sha256));
    try {
      await rename(this.pathOf(sha256), trash);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    await syncDir(this.dir);
    step?.('gc-blob-renamed');
    await rm(trash, { recursive: true, force: true });
  }

  /** Names of the stored blobs (payload sha256s). */
  async list(): Promise<string[]> {
    return (await readdir(this.dir)).filter((name) => SHA256_HEX.test(name));
  }

  /** Deletes every blob not in `keep`; returns what it removed. */
  async collect(keep: ReadonlySet<string>, step?: (name: string) => void): Promise<string[]> {
    const removed: string[] = [];
    for (const sha256 of await this.list()) {
      if (keep.has(sha256)) continue;
      await this.remove(sha256, step);
      removed.push(sha256);
    }
    return removed;
  }
}
