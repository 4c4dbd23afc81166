/**
 * Which artifacts each device may download (proto/docs/mqtt-topics.md, "Who may fetch what"): a device fetches a blob
 * only when a command the hub sent it names that sha256, as hawkBit and Greengrass serve a device only the artifacts
 * assigned to it. The commands capability grants right before it publishes such a command and revokes when the
 * command is settled; a grant nobody revokes (its owner ended while the hub was down, an unowned command) expires
 * `ttlMs` after the command was last sent. Grants are rows in `artifact_grants`, so a device resuming a download
 * after a hub restart still may.
 */
import type { Clock } from '../clock.js';
import type { SqliteDatabase } from './database.js';

/**
 * How long a grant lasts after the command that made it was last sent, when nothing revokes it first: a day, far
 * beyond any round, evaluation or deploy deadline, and a command re-sent to a device coming back online starts it anew.
 */
export const ARTIFACT_GRANT_TTL_MS = 24 * 60 * 60 * 1000;

/** The command a grant comes from. */
export interface GrantSource {
  commandId: string;
  /** The command's owner at the commands capability (`rounds`, `rollouts`, `quantize`); absent for unowned commands. */
  owner?: string | undefined;
  /** The owner's grouping of its commands (a round id, a job id). */
  key?: string | undefined;
}

export interface ArtifactGrants {
  /** Lets `deviceId` fetch each of `sha256s` (lowercase hex) for the command, for `ttlMs` from now (again, when re-sent). */
  grant(deviceId: string, sha256s: readonly string[], source: GrantSource): void;
  /** Whether `deviceId` holds an unexpired grant of `sha256`. */
  allows(deviceId: string, sha256: string): boolean;
  /** Drops the grants of one command; returns how many. */
  revokeCommand(commandId: string): number;
  /** Drops the grants of every command of `owner` under `key`, including those sent before a restart; returns how many. */
  revokeOwner(owner: string, key: string): number;
  /** Drops expired grants; returns how many. Granting prunes too, so this only matters at start. */
  prune(): number;
}

export interface ArtifactGrantsOptions {
  db: SqliteDatabase;
  clock: Clock;
  /** Lifetime of a grant after its last send, in ms. Default {@link ARTIFACT_GRANT_TTL_MS}. */
  ttlMs?: number;
}

export function createArtifactGrants(options: ArtifactGrantsOptions): ArtifactGrants {
  const { db, clock } = options;
  const ttlMs = options.ttlMs ?? ARTIFACT_GRANT_TTL_MS;
  const upsert = db.prepare<[string, string, string, string, string, number, number]>(
    `INSERT INTO artifact_grants (device_id, sha256, command_id, owner, owner_key, granted_at_ms, expires_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (device_id, sha256, command_id) DO UPDATE SET granted_at_ms = excluded.granted_at_ms, expires_at_ms = excluded.expires_at_ms`,
  );
  const selectLive = db.prepare<[string, string, number], { one: number }>(
    'SELECT 1 AS one FROM artifact_grants WHERE device_id = ? AND sha256 = ? AND expires_at_ms > ? LIMIT 1',
  );
  const deleteCommand = db.prepare<[string]>('DELETE FROM artifact_grants WHERE command_id = ?');
  const deleteOwner = db.prepare<[string, string]>('DELETE FROM artifact_grants WHERE owner = ? AND owner_key = ?');
  const deleteExpired = db.prepare<[number]>('DELETE FROM artifact_grants WHERE expires_at_ms <= ?');

  const prune = () => deleteExpired.run(clock.now()).changes;
  const grantAll = db.transaction((deviceId: string, sha256s: readonly string[], source: GrantSource) => {
    const nowMs = clock.now();
    deleteExpired.run(nowMs);
    for (const sha256 of sha256s) {
      upsert.run(deviceId, sha256, source.commandId, source.owner ?? '', source.key ?? '', nowMs, nowMs + ttlMs);
    }
  });

  return {
    grant(deviceId, sha256s, source) {
      if (sha256s.length > 0) grantAll(deviceId, sha256s, source);
    },
    allows: (deviceId, sha256) => selectLive.get(deviceId, sha256, clock.now()) !== undefined,
    revokeCommand: (commandId) => deleteCommand.run(commandId).changes,
    revokeOwner: (owner, key) => deleteOwner.run(owner, key).changes,
    prune,
  };
}
