/**
 * Refusals made below the routes — by Node's HTTP parser and server, before fastify sees a request — answered with
 * the hub's error body and a stable code like every other refusal (fastify's and Node's own answers carry no `code`,
 * or no body at all): a request the parser cannot read (400 HUB_ERR_BAD_REQUEST), header fields over Node's limit
 * (431 HUB_ERR_HEADERS_TOO_LARGE), a request not received in full within `httpRequestTimeoutSec`
 * (408 HUB_ERR_REQUEST_TIMEOUT), an `Expect` the hub cannot meet (417 HUB_ERR_EXPECTATION_FAILED), `CONNECT`
 * (404 HUB_ERR_NOT_FOUND). Header checks fastify runs are in request-headers.ts.
 */
import { STATUS_CODES, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { HUB_ERRORS, type HubErrorCode } from '../errors.js';
import { errorBody } from './error-handler.js';

/** The parser errors that are not "malformed request" (Node's `clientError` codes). */
const CLIENT_ERROR_CODES: Record<string, HubErrorCode> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'HUB_ERR_REQUEST_TIMEOUT',
  HPE_HEADER_OVERFLOW: 'HUB_ERR_HEADERS_TOO_LARGE',
};

/** Longest wait between two checks of Node's request timeouts (its default `connectionsCheckingInterval`). */
const MAX_TIMEOUT_CHECK_MS = 30_000;

/**
 * The `http.createServer` options behind the request timeout and the Host check: the timeout is checked often
 * enough to be kept within a quarter of itself, and Node's own bodyless 400 for a missing Host is turned off so that
 * the hub answers it instead (request-headers.ts).
 */
export function httpServerOptions(requestTimeoutMs: number): ServerOptions {
  return {
    connectionsCheckingInterval: Math.min(MAX_TIMEOUT_CHECK_MS, Math.max(100, Math.floor(requestTimeoutMs / 4))),
    // Node refuses a headers timeout above the request timeout; its default is 60 s.
    headersTimeout: Math.min(60_000, requestTimeoutMs),
    requireHostHeader: false,
  };
}

function writeRawError(socket: Socket, code: HubErrorCode, details?: unknown, message: string = HUB_ERRORS[code].message): void {
  const { statusCode } = HUB_ERRORS[code];
  const body = JSON.stringify(errorBody(code, message, details));
  socket.write(
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * fastify's `clientErrorHandler`: answers what the parser refused, then closes the connection (its framing can no
 * longer be trusted).
 */
export function handleClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code = CLIENT_ERROR_CODES[error.code ?? ''] ?? 'HUB_ERR_BAD_REQUEST';
  this.log.debug({ err: error, code }, 'HTTP client error');
  // As Node does without a handler: answer only when no response has started on this socket, so an answer never
  // lands in the middle of another.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) writeRawError(socket, code, error.code ? { reason: error.code } : undefined);
  socket.destroy(error);
}

/**
 * Answers what Node's server refuses without a route ever running: `Expect` values other than `100-continue` (which
 * Node handles) [RFC 9110 §10.1.1], which Node answers with a bodyless 417; and `CONNECT` [RFC 9110 §9.3.6], whose
 * connection Node drops without an answer. No route is a proxy: 404 like any other method without a route.
 */
export function answerServerRefusals(app: FastifyInstance): void {
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const code: HubErrorCode = 'HUB_ERR_EXPECTATION_FAILED';
    const body = JSON.stringify(errorBody(code, `unsupported Expect: ${String(request.headers.expect).slice(0, 100)}`));
    response.writeHead(HUB_ERRORS[code].statusCode, {
      'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close',
    });
    response.end(body);
  });
  app.server.on('connect', (request: IncomingMessage, socket: Socket) => {
    socket.on('error', () => socket.destroy());
    writeRawError(socket, 'HUB_ERR_NOT_FOUND', undefined, `no route CONNECT ${request.url?.slice(0, 100) ?? ''}`);
    socket.end();
  });
}
