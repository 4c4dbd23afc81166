/** `fedfleet tokens create|ls|revoke`: enrollment tokens. */
import { TOKEN_TTL_SEC } from '../../fleet/enrollment-tokens.js';
import { parseLabelList } from '../../fleet/labels.js';
import { CLIENT_OPTIONS, formatDurationSec, parse, parseDurationSec, parsePositiveInteger } from '../args.js';
import { usageError } from '../cli-error.js';
import { createHubClient } from '../hub-client.js';
import { printJson, println, type CliIo } from '../io.js';
import { formatLabels, formatTable } from '../table.js';

export const TOKENS_USAGE = `Usage:
  fedfleet tokens create [--labels k=v,k2=v2] [--ttl ${formatDurationSec(TOKEN_TTL_SEC.default)}] [--max-uses 1] [--json]
  fedfleet tokens ls [--json]
  fedfleet tokens revoke <id> [--json]

--ttl: how long the token can enroll devices, from ${TOKEN_TTL_SEC.min}s to ${formatDurationSec(TOKEN_TTL_SEC.max)} (e.g. 90s, 30m, 24h, 7d).

Common options: --hub <url> (FEDFLEET_HUB, default http://127.0.0.1:8080), --token <admin token>
(FEDFLEET_ADMIN_TOKEN, else <--data-dir or ./data>/admin.token).
`;

interface CreatedToken {
  id: string;
  token: string;
  labels: Record<string, string>;
  expiresAt: string;
  maxUses: number;
}

interface TokenJson {
  id: string;
  labels: Record<string, string>;
  expiresAt: string;
  maxUses: number;
  uses: number;
  createdAt: string;
  revoked: boolean;
  expired: boolean;
}

const OPTIONS = {
  ...CLIENT_OPTIONS,
  labels: { type: 'string' },
  ttl: { type: 'string', default: formatDurationSec(TOKEN_TTL_SEC.default) },
  'max-uses': { type: 'string', default: '1' },
} as const;

/** `--ttl`, checked against the bounds the hub enforces, so the error names the flag rather than the API field. */
function parseTtlSec(text: string): number {
  const ttlSec = parseDurationSec(text);
  const { min, max } = TOKEN_TTL_SEC;
  if (ttlSec < min || ttlSec > max) {
    throw usageError(`--ttl must be at least ${min}s and at most ${formatDurationSec(max)}, got ${JSON.stringify(text)}`);
  }
  return ttlSec;
}

export async function runTokensCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(TOKENS_USAGE);
    return values.help ? 0 : 2;
  }
  const client = createHubClient(values, io);
  switch (action) {
    case 'create': {
      if (rest.length > 0) throw usageError(`unexpected argument ${rest[0]}`);
      const parsed = parseLabelList(values.labels ?? '');
      if ('error' in parsed) throw usageError(`invalid label ${JSON.stringify(parsed.error)} (use key=value,key2=value2)`);
      const body = { labels: parsed.labels, ttlSec: parseTtlSec(values.ttl), maxUses: parsePositiveInteger(values['max-uses'], '--max-uses') };
      const created = await client.request<CreatedToken>('POST', '/v1/enrollment-tokens', body);
      if (values.json) return printJson(io, created), 0;
      println(io.stdout, formatTable(['FIELD', 'VALUE'], [
        ['token', created.token],
        ['id', created.id],
        ['labels', formatLabels(created.labels)],
        ['expires', created.expiresAt],
        ['max uses', String(created.maxUses)],
      ]).split('\n').slice(1).join('\n'));
      println(io.stdout);
      println(io.stdout, 'The token is shown only now. Enroll a device with:');
      println(io.stdout, `  npx fedfleet agent --hub ${client.hubUrl} --token ${created.token} --data-dir ./agent-data`);
      return 0;
    }
    case 'ls':
    case 'list': {
      const tokens = await client.request<TokenJson[]>('GET', '/v1/enrollment-tokens');
      if (values.json) return printJson(io, tokens), 0;
      if (tokens.length === 0) return println(io.stdout, 'no enrollment tokens'), 0;
      const state = (t: TokenJson) => (t.revoked ? 'revoked' : t.expired ? 'expired' : t.uses >= t.maxUses ? 'used up' : 'usable');
      println(io.stdout, formatTable(
        ['ID', 'STATE', 'USES', 'EXPIRES', 'LABELS'],
        tokens.map((t) => [t.id, state(t), `${t.uses}/${t.maxUses}`, t.expiresAt, formatLabels(t.labels)]),
      ));
      return 0;
    }
    case 'revoke': {
      const [id] = rest;
      if (!id || rest.length > 1) throw usageError('usage: fedfleet tokens revoke <id>');
      const token = await client.request<TokenJson>('DELETE', `/v1/enrollment-tokens/${encodeURIComponent(id)}`);
      if (values.json) return printJson(io, token), 0;
      println(io.stdout, `revoked ${token.id}`);
      return 0;
    }
    default:
      throw usageError(`unknown tokens command ${JSON.stringify(action)}\n${TOKENS_USAGE}`);
  }
}
