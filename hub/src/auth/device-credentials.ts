/**
 * Device MQTT credentials. The password is 256 random bits shown once at enrollment; the database keeps only its
 * scrypt hash, salt and parameters. A successful check is remembered for a few minutes (as a sha256 of the
 * password, in memory), so reconnect storms cost one scrypt per device at most.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { SqliteDatabase } from '../store/database.js';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

/**
 * N=2^12, r=8, p=1: 4 MiB and a few milliseconds per check, so a fleet reconnecting after a hub restart (cold
 * cache) costs well under a second per hundred devices on a small box. The cost factor buys nothing here — device
 * passwords are 256 random bits, beyond any search — the hash only has to make a leaked database useless. The
 * parameters are stored with each hash, so they can be raised later without invalidating existing devices.
 */
export const SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 12, r: 8, p: 1, keyLength: 32 });

export interface HashedSecret {
  hash: string;
  salt: string;
  params: ScryptParams;
}

function scryptAsync(secret: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 128 * params.N * params.r * 2 };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, params.keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function hashSecret(secret: string, params: ScryptParams = SCRYPT_PARAMS): Promise<HashedSecret> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, params);
  return { hash: key.toString('hex'), salt: salt.toString('hex'), params: { ...params } };
}

export async function verifySecret(secret: string, hashed: HashedSecret): Promise<boolean> {
  const expected = Buffer.from(hashed.hash, 'hex');
  const actual = await scryptAsync(secret, Buffer.from(hashed.salt, 'hex'), hashed.params);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}

export interface DeviceCredentials {
  /** Stores the hash of a device's password (inside the caller's transaction). */
  save(deviceId: string, hashed: HashedSecret): void;
  /** Checks a device's password; false for unknown or revoked devices. */
  verify(deviceId: string, password: string): Promise<boolean>;
  /** Deletes the device's credentials and forgets any cached check. */
  revoke(deviceId: string): void;
}

export interface DeviceCredentialsOptions {
  db: SqliteDatabase;
  clock: Clock;
  /** How long a successful check is remembered. Default 5 minutes. */
  cacheTtlMs?: number;
  /** Most devices remembered at once. Default 50 000. */
  cacheMaxEntries?: number;
}

export function createDeviceCredentials(options: DeviceCredentialsOptions): DeviceCredentials {
  const { db, clock } = options;
  const cacheTtlMs = options.cacheTtlMs ?? 5 * 60_000;
  const cacheMaxEntries = options.cacheMaxEntries ?? 50_000;
  const verified = new Map<string, { digest: Buffer; expiresAtMs: number }>();
  const insert = db.prepare(
    `INSERT INTO device_credentials (device_id, algorithm, hash, salt, params, created_at_ms)
     VALUES (?, 'scrypt', ?, ?, ?, ?)
     ON CONFLICT (device_id) DO UPDATE SET hash = excluded.hash, salt = excluded.salt, params = excluded.params,
       created_at_ms = excluded.created_at_ms`,
  );
  const select = db.prepare<[string], { hash: string; salt: string; params: string }>(
    `SELECT c.hash, c.salt, c.params FROM device_credentials c JOIN devices d ON d.id = c.device_id
     WHERE c.device_id = ? AND d.revoked_at_ms IS NULL`,
  );
  const remove = db.prepare('DELETE FROM device_credentials WHERE device_id = ?');
  const digestOf = (password: string) => createHash('sha256').update(password, 'utf8').digest();

  return {
    save(deviceId, hashed) {
      insert.run(deviceId, hashed.hash, hashed.salt, JSON.stringify(hashed.params), clock.now());
      verified.delete(deviceId);
    },
    async verify(deviceId, password) {
      const digest = digestOf(password);
      const cached = verified.get(deviceId);
      if (cached && cached.expiresAtMs > clock.now() && timingSafeEqual(cached.digest, digest)) return true;
      const row = select.get(deviceId);
      if (!row) return false;
      const ok = await verifySecret(password, { hash: row.hash, salt: row.salt, params: JSON.parse(row.params) as ScryptParams });
      // Revocation may have happened while scrypt ran.
      if (!ok || !select.get(deviceId)) return false;
      if (verified.size >= cacheMaxEntries) verified.delete(verified.keys().next().value!);
      verified.set(deviceId, { digest, expiresAtMs: clock.now() + cacheTtlMs });
      return true;
    },
    revoke(deviceId) {
      remove.run(deviceId);
      verified.delete(deviceId);
    },
  };
}
