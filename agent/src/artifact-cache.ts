import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Downloaded artifacts by sha256, so a device fetches each version once. */
export interface ArtifactCache {
  get(sha256: string): Promise<Uint8Array | undefined>;
  put(sha256: string, bytes: Uint8Array): Promise<void>;
}

/** Files under `<dataDir>/artifacts/<sha256>`; survives restarts. */
export class FileArtifactCache implements ArtifactCache {
  constructor(private readonly dir: string) {}

  async get(sha256: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(join(this.dir, sha256)));
    } catch {
      return undefined;
    }
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const temp = join(this.dir, `${sha256}.${process.pid}.tmp`);
    await writeFile(temp, bytes);
    await rename(temp, join(this.dir, sha256));
  }
}

/** Keeps the most recent `capacity` artifacts in memory (firmware-sim devices). */
export class MemoryArtifactCache implements ArtifactCache {
  private readonly entries = new Map<string, Uint8Array>();
  constructor(private readonly capacity = 2) {}

  async get(sha256: string): Promise<Uint8Array | undefined> {
    return this.entries.get(sha256);
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    this.entries.delete(sha256);
    this.entries.set(sha256, bytes);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
