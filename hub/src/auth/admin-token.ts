/**
 * The admin bearer token. Taken from the configuration (`FEDFLEET_ADMIN_TOKEN`) when set; otherwise generated on
 * first start, with only its sha256 kept in the database and the token itself written once to
 * `<dataDir>/admin.token` (mode 0600). A sha256 suffices for a 256-bit random secret: there is nothing to brute
 * force, unlike a password.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../store/settings.js';

export const ADMIN_TOKEN_FILE = 'admin.token';
const SETTING_KEY = 'admin_token_sha256';

export interface AdminToken {
  /** Where the token came from. */
  readonly source: 'config' | 'generated' | 'stored';
  /** The token file when the hub generated the token (it holds the token only if it was written by this data dir). */
  readonly filePath: string | undefined;
  /** Constant-time check of a presented token. */
  verify(presented: string | undefined): boolean;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function loadOrCreateAdminToken(options: {
  dataDir: string;
  settings: Settings;
  configuredToken: string | undefined;
}): AdminToken {
  const filePath = join(options.dataDir, ADMIN_TOKEN_FILE);
  let expected: Buffer;
  let source: AdminToken['source'];
  if (options.configuredToken !== undefined) {
    expected = sha256(options.configuredToken);
    source = 'config';
  } else {
    const stored = options.settings.get(SETTING_KEY);
    if (stored) {
      expected = Buffer.from(stored, 'hex');
      source = 'stored';
    } else {
      const token = `ffa_${randomBytes(32).toString('base64url')}`;
      writeSecretFile(filePath, `${token}\n`);
      expected = sha256(token);
      options.settings.set(SETTING_KEY, expected.toString('hex'));
      source = 'generated';
    }
  }
  return {
    source,
    filePath: source === 'config' ? undefined : filePath,
    verify(presented) {
      if (!presented) return false;
      // Hashing first gives equal-length inputs, so timingSafeEqual leaks nothing about the token.
      return timingSafeEqual(sha256(presented), expected);
    },
  };
}

/** Writes `content` to `path` with mode 0600, atomically (temp file + rename). */
export function writeSecretFile(path: string, content: string): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600); // the umask may have narrowed it further; never widen, but be explicit
  renameSync(tmp, path);
}
