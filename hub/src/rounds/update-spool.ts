/**
 * Accepted updates on disk, one file per device per round under `<dataDir>/updates/<roundId>/`, written with fsync
 * and renamed into place before the database records the update — so nothing acknowledged is lost in a crash, and
 * aggregation (also after a restart) streams them back one at a time. A committed round's files are deleted.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export class UpdateSpool {
  constructor(private readonly dir: string) {}

  private roundDir(roundId: string): string {
    return join(this.dir, roundId);
  }

  /** Writes one update durably; returns the reference stored with the participant. */
  async write(roundId: string, deviceId: string, bytes: Uint8Array): Promise<string> {
    const dir = this.roundDir(roundId);
    await mkdir(dir, { recursive: true });
    const ref = `${deviceId}.pb`;
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
