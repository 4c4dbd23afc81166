import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HUB_ERROR_CODES, HUB_ERRORS, HubError } from '../src/errors.js';

// The error-code reference lives in the hub's docs (linked from README.md's "Where to read on").
const ERROR_CODES_DOC = readFileSync(new URL('../docs/error-codes.md', import.meta.url), 'utf8');

describe('error registry', () => {
  it('documents every code in the error-codes table (hub/docs/error-codes.md), with its HTTP status', () => {
    const rows = new Map(
      [...ERROR_CODES_DOC.matchAll(/^\| `(HUB_ERR_[A-Z_]+)` \| (\d{3}|—) \|/gm)].map((match) => [match[1]!, match[2]!]),
    );
    for (const code of HUB_ERROR_CODES) {
      expect(rows.has(code), `${code} is missing from hub/docs/error-codes.md's table`).toBe(true);
      const status = rows.get(code)!;
      if (status !== '—') expect(Number(status), code).toBe(HUB_ERRORS[code].statusCode);
    }
    for (const code of rows.keys()) expect(HUB_ERROR_CODES, `${code} is documented but not in the registry`).toContain(code);
  });

  it('builds errors with a code, the registry status and an optional message', () => {
    const error = new HubError('HUB_ERR_TOKEN_EXPIRED');
    expect(error).toMatchObject({ code: 'HUB_ERR_TOKEN_EXPIRED', statusCode: 410, message: 'enrollment token has expired' });
    expect(new HubError('HUB_ERR_BAD_SELECTOR', { message: 'x' }).message).toBe('x');
  });
});
