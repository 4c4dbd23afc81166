/**
 * Header fields that make a request mean different things to different readers are refused before any route runs,
 * rather than read one way here and another way by a proxy in front of the hub:
 * - an HTTP/1.1 request without `Host` [RFC 9112 §3.2] (HTTP/1.0 may omit it) — 400 HUB_ERR_BAD_REQUEST;
 * - `Host`, `Authorization` or `Content-Type` sent twice: not list-based, so a second line is an error
 *   [RFC 9110 §5.3], and Node keeps only the first while others keep the last — 400 HUB_ERR_BAD_REQUEST;
 * - a body in a content coding (`Content-Encoding: gzip`) or a transfer coding other than `chunked`: the hub decodes
 *   neither, and reading coded bytes as JSON would store what the client did not mean [RFC 9110 §8.4, RFC 9112 §6.1]
 *   — 415 HUB_ERR_UNSUPPORTED_ENCODING (not RFC 9112's 501: a client error, not a server one).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HubError } from '../errors.js';

const SINGLETON_HEADERS = new Set(['host', 'authorization', 'content-type']);

/** The first header of `SINGLETON_HEADERS` that occurs more than once in `rawHeaders` (name, value, name, …). */
function repeatedSingleton(rawHeaders: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!SINGLETON_HEADERS.has(name)) continue;
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

/** The codings of a `Content-Encoding` / `Transfer-Encoding` value, lower case, `identity` left out. */
function codings(value: string | string[] | undefined): string[] {
  const text = Array.isArray(value) ? value.join(',') : value ?? '';
  return text.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
}

export function checkRequestHeaders(request: FastifyRequest): void {
  const { raw } = request;
  if (raw.httpVersionMajor === 1 && raw.httpVersionMinor >= 1 && request.headers.host === undefined) {
    throw new HubError('HUB_ERR_BAD_REQUEST', { message: 'an HTTP/1.1 request needs a Host header [RFC 9112 §3.2]' });
  }
  const repeated = repeatedSingleton(raw.rawHeaders);
  if (repeated !== undefined) throw new HubError('HUB_ERR_BAD_REQUEST', { message: `header ${repeated} sent more than once` });
  // A bodyless request's Content-Encoding describes nothing: no reason to refuse it.
  const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
  const content = codings(request.headers['content-encoding']);
  if (hasBody && content.length > 0) {
    throw new HubError('HUB_ERR_UNSUPPORTED_ENCODING', { message: `unsupported Content-Encoding: ${content.join(', ').slice(0, 100)}` });
  }
  // Node's parser has already refused a Transfer-Encoding that does not end in chunked (HPE_INVALID_TRANSFER_ENCODING).
  const transfer = codings(request.headers['transfer-encoding']).filter((c) => c !== 'chunked');
  if (transfer.length > 0) {
    throw new HubError('HUB_ERR_UNSUPPORTED_ENCODING', { message: `unsupported Transfer-Encoding: ${transfer.join(', ').slice(0, 100)}` });
  }
}

/** Adds the checks to every route of `app`, the not-found handler included (call on the root instance). */
export function refuseAmbiguousHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => checkRequestHeaders(request));
}
