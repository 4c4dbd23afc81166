/**
 * Accepted updates on disk, one file per device per round under `<dataDir>/updates/<roundId>/`, written with fsync
 * and renamed into place before the database records the update — so nothing acknowledged is lost in a crash, and
 * aggregation (also after a restart) streams them back one at a time. A committed round's files are deleted.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** One path segment, short enough for any file system: what ends up in a file name must never walk the tree. */
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export class UpdateSpool {
  constructor(private readonly dir: string) {}

  private roundDir(roundId: string): string {
    return join(this.dir, roundId);
  }

  /** Writes one update durably under `<name>.pb`; returns the reference stored with the participant. */
  async write(roundId: string, name: string, bytes: Uint8Array): Promise<string> {
    if (!SAFE_NAME.test(name) || !SAFE_NAME.test(roundId)) throw new Error(`unsafe spool name ${JSON.stringify(name)}`);
    const dir = this.roundDir(roundId);
    await mkdir(dir, { recursive: true });
    const ref = `${name}.pb`;
    const temp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, ref));
    return ref;
  }

  async read(roundId: string, ref: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(join(this.roundDir(roundId), ref)));
  }

  async removeRound(roundId: string): Promise<void> {
    await rm(this.roundDir(roundId), { recursive: true, force: true });
  }
}
