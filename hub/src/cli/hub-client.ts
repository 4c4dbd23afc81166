/**
 * The CLI's HTTP client for a running hub: resolves the hub URL (`--hub`, FEDFLEET_HUB, http://127.0.0.1:8080)
 * and the admin token (`--token`, FEDFLEET_ADMIN_TOKEN, then `<--data-dir or ./data>/admin.token`), and turns
 * error bodies into {@link CliError}s carrying the hub's code.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ADMIN_TOKEN_FILE } from '../auth/admin-token.js';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './io.js';

export const DEFAULT_HUB_URL = 'http://127.0.0.1:8080';

export interface HubClient {
  readonly hubUrl: string;
  /** A JSON request; the parsed answer. */
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** A GET whose answer is bytes (an artifact), with the headers that describe them. */
  download(path: string): Promise<{ bytes: Buffer; headers: Headers }>;
  /**
   * A GET whose answer is read as it arrives (`GET /v1/events`): resolves once the hub answered its headers, which for
   * the event stream means the subscription is in place. `signal` ends it.
   */
  stream(path: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
}

export interface ClientFlags {
  hub?: string;
  token?: string;
  'data-dir'?: string;
}

export function resolveAdminToken(flags: ClientFlags, io: CliIo): string {
  if (flags.token) return flags.token;
  if (io.env.FEDFLEET_ADMIN_TOKEN) return io.env.FEDFLEET_ADMIN_TOKEN;
  const dataDir = resolve(io.cwd, flags['data-dir'] ?? io.env.FEDFLEET_DATA_DIR ?? './data');
  try {
    const token = readFileSync(resolve(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
    if (token) return token;
  } catch {
    // fall through to the error below
  }
  throw new CliError('HUB_ERR_NO_ADMIN_TOKEN');
}

/**
 * The hub's base URL from `--hub`, else FEDFLEET_HUB, else the default. Anything but an http(s) URL with a host is a
 * mistake on the command line (`127.0.0.1:8080` without a scheme), reported as such before any request: otherwise
 * fetch fails and it would read as an unreachable hub.
 */
export function resolveHubUrl(flags: ClientFlags, io: CliIo): string {
  const [text, source] = flags.hub !== undefined
    ? [flags.hub, '--hub']
    : io.env.FEDFLEET_HUB
      ? [io.env.FEDFLEET_HUB, 'FEDFLEET_HUB']
      : [DEFAULT_HUB_URL, 'the default'];
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname || url.search || url.hash) {
    const hint = /^[\w.-]+:\d+$|^\[[\da-f:]+\]:\d+$/i.test(text) ? ` (did you mean http://${text}?)` : '';
    throw usageError(`${source} must be the hub's http:// or https:// URL, e.g. ${DEFAULT_HUB_URL}; got ${JSON.stringify(text)}${hint}`);
  }
  return text.replace(/\/+$/, '');
}

/** The hub's `{ error: { code, message } }` body as a CliError (HUB_ERR_INTERNAL with the status when it has none). */
function hubError(status: number, parsed: unknown): CliError {
  const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
  return new CliError(error?.code ?? 'HUB_ERR_INTERNAL', error?.message ?? `HTTP ${status}`);
}

/** The error of a non-JSON-request answer (a download, a stream) from its body, JSON or not. */
function errorOf(status: number, body: Buffer): CliError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  return hubError(status, parsed);
}

export function createHubClient(flags: ClientFlags, io: CliIo): HubClient {
  const hubUrl = resolveHubUrl(flags, io);
  let token: string | undefined;
  async function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    token ??= resolveAdminToken(flags, io);
    try {
      return await fetch(`${hubUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError('HUB_ERR_HUB_UNREACHABLE', `cannot reach the hub at ${hubUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
  }
  return {
    hubUrl,
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await send(method, path, body);
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        throw new CliError('HUB_ERR_HUB_UNREACHABLE', `${hubUrl} answered ${response.status} with something that is not JSON — is it a fedfleet hub?`);
      }
      if (!response.ok) throw hubError(response.status, parsed);
      return parsed as T;
    },
    async download(path: string) {
      const response = await send('GET', path);
      const bytes = Buffer.from(await response.arrayBuffer());
      if (!response.ok) throw errorOf(response.status, bytes);
      return { bytes, headers: response.headers };
    },
    async stream(path: string, signal: AbortSignal) {
      const response = await send('GET', path, undefined, signal);
      if (!response.ok || !response.body) throw errorOf(response.status, Buffer.from(await response.arrayBuffer()));
      return response.body;
    },
  };
}
