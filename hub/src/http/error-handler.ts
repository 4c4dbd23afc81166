/**
 * Turns every error into `{ error: { code, message } }` with a stable HUB_ERR_* code: HubErrors keep theirs,
 * schema violations become HUB_ERR_VALIDATION (400), fastify's own client errors HUB_ERR_BAD_REQUEST (or
 * HUB_ERR_PAYLOAD_TOO_LARGE), and anything unexpected HUB_ERR_INTERNAL (500, logged, details withheld).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HUB_ERRORS, HubError, type HubErrorCode } from '../errors.js';
import '../hub-context.js';
import { bodyFullyRead, DRAIN_MAX_BYTES, DRAIN_TIMEOUT_MS, drainRequestBody } from './drain-request.js';

export interface ErrorBody {
  error: { code: HubErrorCode; message: string; details?: unknown };
}

export function errorBody(code: HubErrorCode, message: string = HUB_ERRORS[code].message, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

export function handleError(error: FastifyError | HubError | Error, request: FastifyRequest, reply: FastifyReply): void | Promise<void> {
  // fastify closes the connection after an error it raised before reading the whole body (413, a broken body):
  // discard the rest first, so the close does not reset the connection under the answer (drain-request.ts).
  if (reply.getHeader('connection') === 'close' && !bodyFullyRead(request.raw)) {
    const limits = { maxBytes: DRAIN_MAX_BYTES, timeoutMs: DRAIN_TIMEOUT_MS, clock: request.server.clock };
    return drainRequestBody(request.raw, limits).then(() => sendError(error, request, reply));
  }
  sendError(error, request, reply);
}

function sendError(error: FastifyError | HubError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof HubError) {
    if (error.code === 'HUB_ERR_UNAUTHORIZED') reply.header('www-authenticate', 'Bearer realm="fedfleet"');
    reply.status(error.statusCode).send(errorBody(error.code, error.message, error.details));
    return;
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    reply.status(400).send(errorBody('HUB_ERR_VALIDATION', fastifyError.message));
    return;
  }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    reply.status(413).send(errorBody('HUB_ERR_PAYLOAD_TOO_LARGE', fastifyError.message));
    return;
  }
  const statusCode = fastifyError.statusCode ?? 500;
  if (statusCode >= 400 && statusCode < 500) {
    reply.status(statusCode).send(errorBody('HUB_ERR_BAD_REQUEST', fastifyError.message));
    return;
  }
  request.log.error({ err: error, method: request.method, url: request.routeOptions.url }, 'request failed');
  reply.status(500).send(errorBody('HUB_ERR_INTERNAL'));
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): void {
  reply.status(404).send(errorBody('HUB_ERR_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
}
