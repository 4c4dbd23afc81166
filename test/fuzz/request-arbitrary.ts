/**
 * Requests for one API operation: path parameters from real ids and random strings, query strings and bodies from the
 * operation's schemas (valid-looking, mutated once deep inside, or hostile throughout), plain junk bodies, odd
 * content types, and the admin token on most requests but none, a wrong or a malformed one on some.
 */
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { hostileKey, hostileNode, hostileString } from './hostile-values.js';
import { fromJsValue, preview, toJsonText, toQueryValues, type JsonNode } from './json-text.js';
import { mutateOnce } from './mutate-node.js';
import type { Operation, OperationParameter } from './openapi-operations.js';
import { schemaNode, type JsonSchema } from './schema-arbitrary.js';

/** The fastify default `bodyLimit` the hub sets (1 MiB): the oversize bodies go just past it. */
export const OVERSIZE_BODY_BYTES = [1024 * 1024 + 1, 2 * 1024 * 1024] as const;

export type BodySpec =
  | { kind: 'none' }
  | { kind: 'json'; node: JsonNode }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  /** A JSON body of `sizeBytes`, built only when sent (so failure reports stay short). */
  | { kind: 'oversize'; sizeBytes: number };

export type AuthKind = 'admin' | 'none' | 'wrong' | 'malformed' | 'query';

export interface FuzzRequest {
  method: string;
  /** Path with its parameters filled in, plus the query string. */
  url: string;
  auth: AuthKind;
  contentType: string | undefined;
  body: BodySpec;
}

export interface RequestContext {
  /** Real ids of seeded objects by the path segment before the parameter (`devices` → device ids). */
  idsBySegment: Readonly<Record<string, readonly string[]>>;
  /** Candidate values by property or parameter name (real tokens, a loadable model.json, …). */
  hints: Readonly<Record<string, fc.Arbitrary<JsonNode>>>;
  resolveRef?: (ref: string) => JsonSchema | undefined;
}

const JSON_CONTENT_TYPES: fc.Arbitrary<string | undefined> = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 12 },
  {
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=utf-16le', 'text/plain',
      'application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/jsonx',
      'application/json;;', undefined,
    ),
    weight: 2,
  },
);

/** Percent-encodes UTF-8 bytes (a lone surrogate becomes U+FFFD, as a client's encoder would send it). */
function percentEncode(text: string): string {
  return Buffer.from(text, 'utf8').toString('binary').replace(/[^A-Za-z0-9._~-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function pathParamValue(op: Operation, param: OperationParameter, ctx: RequestContext): fc.Arbitrary<string> {
  // The segment before `{param}` names the collection: /v1/models/{id}/versions/{version} → models, versions.
  const segments = op.path.split('/');
  const segment = segments[segments.indexOf(`{${param.name}}`) - 1] ?? '';
  const real = ctx.idsBySegment[segment] ?? [];
  const everyId = Object.values(ctx.idsBySegment).flat();
  const generated = schemaNode(param.schema ?? { type: 'string' }, { mutate: false, ...(ctx.resolveRef ? { resolveRef: ctx.resolveRef } : {}) })
    .map((node) => toQueryValues(node)[0] ?? '');
  const value = fc.oneof(
    ...(real.length > 0 ? [{ arbitrary: fc.constantFrom(...real), weight: 6 }] : []),
    ...(everyId.length > 0 ? [{ arbitrary: fc.constantFrom(...everyId), weight: 1 }] : []),
    { arbitrary: generated, weight: 2 },
    { arbitrary: hostileString, weight: 2 },
  );
  // Mostly percent-encoded as a client library would; sometimes raw (an invalid escape, a slash, a space).
  return fc.tuple(value, fc.nat({ max: 9 })).map(([v, raw]) => (raw === 0 ? v : percentEncode(v)));
}

function queryString(op: Operation, ctx: RequestContext): fc.Arbitrary<string> {
  const options = { mutate: true, hints: ctx.hints, ...(ctx.resolveRef ? { resolveRef: ctx.resolveRef } : {}) };
  const params = op.queryParams.map((param) => {
    const value = schemaNode(param.schema ?? { type: 'string' }, options, 0, param.name);
    return fc.tuple(fc.nat({ max: 3 }), value).map(([absent, node]) => (absent === 0 ? [] : toQueryValues(node).map((v) => [param.name, v] as const)));
  });
  const extras = fc.oneof(
    { arbitrary: fc.constant([]), weight: 8 },
    { arbitrary: fc.array(fc.tuple(hostileKey, hostileString), { minLength: 1, maxLength: 3 }), weight: 1 },
  );
  return fc.tuple(fc.tuple(...params), extras, fc.nat({ max: 19 })).map(([pairs, extra, raw]) => {
    const all = [...pairs.flat(), ...extra];
    const text = all.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
    // Now and then an escape that does not decode.
    return raw === 0 ? `${text}&bad=%zz%&utf8=%ED%A0%80%FF` : text;
  });
}

const junkBody: fc.Arbitrary<BodySpec> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v): BodySpec => ({ kind: 'json', node: fromJsValue(v) })), weight: 3 },
  { arbitrary: hostileNode.map((node): BodySpec => ({ kind: 'json', node })), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text): BodySpec => ({ kind: 'text', text })), weight: 2 },
  { arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes): BodySpec => ({ kind: 'bytes', bytes })), weight: 2 },
  { arbitrary: fc.constantFrom<BodySpec>({ kind: 'text', text: '' }, { kind: 'text', text: '{' }, { kind: 'text', text: 'null' }), weight: 1 },
  { arbitrary: fc.constantFrom(...OVERSIZE_BODY_BYTES).map((sizeBytes): BodySpec => ({ kind: 'oversize', sizeBytes })), weight: 1 },
);

function bodySpec(op: Operation, ctx: RequestContext): fc.Arbitrary<BodySpec> {
  if (!op.body) return fc.oneof({ arbitrary: fc.constant<BodySpec>({ kind: 'none' }), weight: 6 }, { arbitrary: junkBody, weight: 1 });
  const base = { hints: ctx.hints, ...(ctx.resolveRef ? { resolveRef: ctx.resolveRef } : {}) };
  const valid = schemaNode(op.body, { ...base, mutate: false });
  const json = (arb: fc.Arbitrary<JsonNode>) => arb.map((node): BodySpec => ({ kind: 'json', node }));
  return fc.oneof(
    { arbitrary: json(valid), weight: 3 },
    { arbitrary: json(valid.chain(mutateOnce)), weight: 4 },
    { arbitrary: json(schemaNode(op.body, { ...base, mutate: true })), weight: 2 },
    { arbitrary: junkBody, weight: 2 },
    { arbitrary: fc.constant<BodySpec>({ kind: 'none' }), weight: 1 },
  );
}

/** Requests for `op`: mostly its own method and the admin token, sometimes neither. */
export function requestArbitrary(op: Operation, ctx: RequestContext): fc.Arbitrary<FuzzRequest> {
  const path = fc.tuple(...op.pathParams.map((p) => pathParamValue(op, p, ctx))).map((values) => {
    let filled = op.path;
    op.pathParams.forEach((p, i) => (filled = filled.replace(`{${p.name}}`, values[i]!)));
    return filled;
  });
  const auth: fc.Arbitrary<AuthKind> = fc.oneof(
    { arbitrary: fc.constant<AuthKind>('admin'), weight: 16 },
    { arbitrary: fc.constantFrom<AuthKind>('none', 'wrong', 'malformed', 'query'), weight: 2 },
  );
  const method = fc.oneof(
    { arbitrary: fc.constant(op.method), weight: 30 },
    { arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), weight: 1 },
  );
  return fc.record({ method, path, query: queryString(op, ctx), auth, contentType: JSON_CONTENT_TYPES, body: bodySpec(op, ctx) })
    .map(({ method: m, path: p, query, auth: a, contentType, body }) => ({
      method: m,
      url: query ? `${p}?${query}` : p,
      auth: a,
      contentType: body.kind === 'none' ? undefined : contentType,
      body,
    }));
}

function bodyPayload(body: BodySpec): string | Buffer | undefined {
  switch (body.kind) {
    case 'none':
      return undefined;
    case 'json':
      return toJsonText(body.node);
    case 'text':
      return body.text;
    case 'bytes':
      return Buffer.from(body.bytes);
    case 'oversize':
      return `{"pad":"${'x'.repeat(body.sizeBytes)}"}`;
  }
}

/** The inject options of a request, with the admin token where `auth` says. */
export function injectOptions(request: FuzzRequest, adminToken: string): InjectOptions {
  const headers: Record<string, string> = {};
  let url = request.url;
  if (request.auth === 'admin') headers.authorization = `Bearer ${adminToken}`;
  else if (request.auth === 'wrong') headers.authorization = `Bearer ${adminToken.slice(0, -1)}x`;
  else if (request.auth === 'malformed') headers.authorization = `Basic ${adminToken}`;
  else if (request.auth === 'query') url += `${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(adminToken)}`;
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  const payload = bodyPayload(request.body);
  return { method: request.method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) };
}

/** One line describing a request, for failure messages. */
export function describeRequest(request: FuzzRequest): string {
  const payload = bodyPayload(request.body);
  const body = payload === undefined ? '(no body)' : typeof payload === 'string' ? preview(payload, 3000) : `bytes ${payload.toString('hex').slice(0, 200)}`;
  return `${request.method} ${preview(request.url, 300)} [auth ${request.auth}, content-type ${request.contentType ?? '-'}] body: ${body}`;
}
