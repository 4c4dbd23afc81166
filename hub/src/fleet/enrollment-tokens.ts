/**
 * Enrollment tokens: 256-bit random secrets shown once at creation; the database keeps their sha256. A token
 * carries labels for the devices it enrolls, an expiry and a use budget. Use counting is a single conditional
 * UPDATE inside the enrollment transaction, so concurrent enrollments never overspend a token.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { HubError } from '../errors.js';
import type { SqliteDatabase } from '../store/database.js';
import { finiteColumn, jsonColumn, timeColumn } from '../store/row-values.js';
import { sortLabels, type Labels } from './labels.js';

export interface EnrollmentToken {
  id: string;
  labels: Labels;
  expiresAtMs: number;
  maxUses: number;
  uses: number;
  createdAtMs: number;
  revokedAtMs: number | null;
  /**
   * Why the stored row cannot be used (labels not JSON, counts or times that are not finite); absent when it can.
   * Such a token still lists — its bad values read as 0, i.e. expired and exhausted — but never enrolls a device.
   */
  unusable?: string;
}

export interface CreatedToken extends EnrollmentToken {
  /** The secret, returned once. */
  token: string;
}

interface TokenRow {
  id: string;
  labels: string;
  expires_at_ms: number;
  max_uses: number;
  uses: number;
  created_at_ms: number;
  revoked_at_ms: number | null;
}

const TOKEN_PREFIX = 'fft_';

/**
 * Lifetime of a token, in seconds: the API schema and the CLI's `--ttl` check both read these. At least a minute, so
 * a token outlives the time it takes to paste it into a device; at most a leap year.
 */
export const TOKEN_TTL_SEC = Object.freeze({ min: 60, max: 366 * 86_400, default: 86_400 });

export interface EnrollmentTokens {
  create(options: { labels: Labels; ttlSec: number; maxUses: number }): CreatedToken;
  list(): EnrollmentToken[];
  get(id: string): EnrollmentToken | undefined;
  revoke(id: string): boolean;
  /** Finds a usable token by its secret or throws HUB_ERR_TOKEN_INVALID / _EXPIRED / _EXHAUSTED. */
  check(secret: string): EnrollmentToken;
  /** Spends one use of a checked token; throws like {@link check} when it has become unusable. Call in a transaction. */
  consume(secret: string): EnrollmentToken;
}

function toToken(row: TokenRow): EnrollmentToken {
  const problems: string[] = [];
  const labels = jsonColumn<unknown>(row.labels, 'labels', problems);
  const token: EnrollmentToken = {
    id: row.id,
    labels: sortLabels(isLabels(labels) ? labels : {}),
    expiresAtMs: timeColumn(row.expires_at_ms, 'expires_at_ms', problems),
    maxUses: finiteColumn(row.max_uses, 'max_uses', problems),
    uses: finiteColumn(row.uses, 'uses', problems),
    createdAtMs: timeColumn(row.created_at_ms, 'created_at_ms', problems),
    revokedAtMs: row.revoked_at_ms === null ? null : timeColumn(row.revoked_at_ms, 'revoked_at_ms', problems),
  };
  if (labels !== undefined && !isLabels(labels)) problems.push('labels is not an object of strings');
  return problems.length > 0 ? { ...token, unusable: problems.join('; ') } : token;
}

const isLabels = (value: unknown): value is Labels =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');

const hashToken = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

export function createEnrollmentTokens(db: SqliteDatabase, clock: Clock): EnrollmentTokens {
  const insert = db.prepare(
    `INSERT INTO enrollment_tokens (id, token_sha256, labels, expires_at_ms, max_uses, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const columns = 'id, labels, expires_at_ms, max_uses, uses, created_at_ms, revoked_at_ms';
  const selectAll = db.prepare<[], TokenRow>(`SELECT ${columns} FROM enrollment_tokens ORDER BY created_at_ms, id`);
  const selectById = db.prepare<[string], TokenRow>(`SELECT ${columns} FROM enrollment_tokens WHERE id = ?`);
  const selectByHash = db.prepare<[string], TokenRow>(`SELECT ${columns} FROM enrollment_tokens WHERE token_sha256 = ?`);
  const spend = db.prepare(
    `UPDATE enrollment_tokens SET uses = uses + 1
     WHERE token_sha256 = ? AND revoked_at_ms IS NULL AND expires_at_ms > ? AND uses < max_uses`,
  );
  const revoke = db.prepare('UPDATE enrollment_tokens SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL');

  function check(secret: string): EnrollmentToken {
    const row = secret.startsWith(TOKEN_PREFIX) ? selectByHash.get(hashToken(secret)) : undefined;
    const token = row && toToken(row);
    if (!token || token.unusable !== undefined || token.revokedAtMs !== null) throw new HubError('HUB_ERR_TOKEN_INVALID');
    if (token.expiresAtMs <= clock.now()) throw new HubError('HUB_ERR_TOKEN_EXPIRED');
    if (token.uses >= token.maxUses) throw new HubError('HUB_ERR_TOKEN_EXHAUSTED');
    return token;
  }

  return {
    create({ labels, ttlSec, maxUses }) {
      const id = `tok-${randomBytes(8).toString('hex')}`;
      const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const now = clock.now();
      const expiresAtMs = now + ttlSec * 1000;
      insert.run(id, hashToken(token), JSON.stringify(sortLabels(labels)), expiresAtMs, maxUses, now);
      return { id, token, labels: sortLabels(labels), expiresAtMs, maxUses, uses: 0, createdAtMs: now, revokedAtMs: null };
    },
    list: () => selectAll.all().map(toToken),
    get(id) {
      const row = selectById.get(id);
      return row && toToken(row);
    },
    revoke: (id) => revoke.run(clock.now(), id).changes > 0,
    check,
    consume(secret) {
      const hash = hashToken(secret);
      if (secret.startsWith(TOKEN_PREFIX) && spend.run(hash, clock.now()).changes === 1) {
        // An unusable row passes the SQL test (Infinity > now); throwing rolls the spend back with the enrollment.
        const spent = toToken(selectByHash.get(hash)!);
        if (spent.unusable === undefined) return spent;
      }
      check(secret); // throws with the precise reason
      throw new HubError('HUB_ERR_TOKEN_INVALID');
    },
  };
}
