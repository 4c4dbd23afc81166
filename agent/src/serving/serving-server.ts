import { STATUS_CODES, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentError, isAgentError, type AgentErrorCode } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { InferenceService, ServedPrediction } from './inference-service.js';
import { BodyBudget, mediaTypeOf, readBody } from './request-body.js';
import { isLoopbackName, requestPath } from './request-target.js';
import { parseFeedbackRequest, parsePredictRequest } from './serving-requests.js';

/** The port `fedfleet agent` serves on unless told otherwise (agent/docs/agent.md#serving). */
export const DEFAULT_SERVE_PORT = 8431;

export interface ServingServerOptions {
  /**
   * Interface to listen on; default 127.0.0.1 (only local clients: the endpoint has no authentication). On a loopback
   * address it also answers only requests whose Host is a loopback name (no DNS rebinding, request-target.ts).
   */
  host?: string;
  /** TCP port; 0 = any free port (the returned `port` says which). */
  port: number;
  /** Largest request body, bytes; default 4 MiB. */
  maxBodyBytes?: number;
  /** Body bytes held by all requests at once; beyond it a request is refused with 503. Default 4 × `maxBodyBytes`. */
  maxInFlightBodyBytes?: number;
  /** Most inputs in one `{"inputs": …}` request; default 64. */
  maxBatch?: number;
  /** Longest time a client may take to send a whole request, ms; default 30,000. */
  requestTimeoutMs?: number;
  /**
   * Open connections at once; a further one is closed as it arrives. Default 64. Idle or slow clients hold sockets,
   * and the agent shares its file descriptors with the MQTT session and the model store.
   */
  maxConnections?: number;
  log?: Logger;
}

export interface ServingServer {
  port: number;
  close(): Promise<void>;
}

/** HTTP status of each error the endpoint answers with; any other failure is a 500. */
const STATUS_OF: Partial<Record<AgentErrorCode, number>> = {
  AGENT_ERR_BAD_INPUT: 400,
  AGENT_ERR_BAD_JSON: 400,
  AGENT_ERR_BAD_REQUEST: 400,
  AGENT_ERR_REQUEST_TIMEOUT: 408,
  AGENT_ERR_NO_ROUTE: 404,
  AGENT_ERR_UNKNOWN_REQUEST: 404,
  AGENT_ERR_METHOD_NOT_ALLOWED: 405,
  AGENT_ERR_BODY_TOO_LARGE: 413,
  AGENT_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  AGENT_ERR_BAD_HOST: 421,
  AGENT_ERR_NO_MODEL: 503,
  AGENT_ERR_OVERLOADED: 503,
};

type Answer = { status: number; body: unknown };
type RouteHandler = (req: IncomingMessage, body: Buffer) => Promise<Answer>;
interface Route {
  method: 'GET' | 'POST';
  /** POST routes read a body first; GET ones refuse none but ignore it. */
  handle: RouteHandler;
}

function predictionJson(answer: ServedPrediction): Record<string, unknown> {
  const { requestId, modelId, versionId, classIndex, scores, latencyMs } = answer;
  return { requestId, modelId, versionId, classIndex, scores: Array.from(scores), latencyMs };
}

function routesFor(service: InferenceService, maxBatch: number): Record<string, Route> {
  return {
    '/predict': {
      method: 'POST',
      handle: async (req, body) => {
        const request = parsePredictRequest(mediaTypeOf(req), body, maxBatch);
        if (!request.batch) return { status: 200, body: predictionJson(await service.predict(request.inputs[0]!)) };
        const answers = await service.predictBatch(request.inputs);
        return { status: 200, body: { predictions: answers.map(predictionJson) } };
      },
    },
    '/feedback': {
      method: 'POST',
      handle: async (req, body) => {
        const { requestId, label } = parseFeedbackRequest(mediaTypeOf(req), body);
        if (!service.feedback(requestId, label)) throw new AgentError('AGENT_ERR_UNKNOWN_REQUEST', `"${requestId}" is unknown, aged out or already labelled`);
        return { status: 200, body: { requestId, label } };
      },
    },
    '/healthz': {
      method: 'GET',
      handle: async () => {
        const model = service.serving();
        if (!model) throw new AgentError('AGENT_ERR_NO_MODEL');
        const { modelId, versionId, format, encoding } = model.manifest;
        return { status: 200, body: { status: 'serving', modelId, versionId, format, encoding } };
      },
    },
  };
}

function errorAnswer(error: unknown): Answer {
  const code: AgentErrorCode = isAgentError(error) ? error.code : 'AGENT_ERR_INFERENCE_FAILED';
  const status = STATUS_OF[code] ?? 500;
  // A model that fails on an input is a 500 with its own code (AGENT_ERR_MODEL_LOAD, …), or INFERENCE_FAILED.
  const message = isAgentError(error) ? error.message : `${code}: ${(error as Error)?.message ?? String(error)}`;
  return { status, body: { error: { code, message } } };
}

function send(res: ServerResponse, answer: Answer, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
}

/**
 * Starts the device's local inference endpoint (issue 10 item 3): `POST /predict`, `POST /feedback`,
 * `GET /healthz` on node:http. Every failure is a JSON error with a code and an HTTP status (4xx for the client's
 * mistakes, 503 without a model); a refused request changes nothing, and no request can take the process down.
 * @throws AgentError AGENT_ERR_SERVE_FAILED when it cannot listen (port in use, bad host).
 */
export async function startServingServer(service: InferenceService, options: ServingServerOptions): Promise<ServingServer> {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const bodyBudget = new BodyBudget(options.maxInFlightBodyBytes ?? 4 * maxBodyBytes);
  const routes = routesFor(service, options.maxBatch ?? 64);
  const log = options.log ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  const loopbackOnly = isLoopbackName(host);

  /** `expectsContinue`: the client waits for `100 Continue` before sending the body (node:http's checkContinue). */
  const handle = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> => {
    let path: string;
    try {
      path = requestPath(req, loopbackOnly);
    } catch (error) {
      return send(res, errorAnswer(error), { connection: 'close' });
    }
    const route = routes[path];
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    let body: Buffer = Buffer.alloc(0);
    const lease = bodyBudget.lease();
    // The body's bytes stay leased until the answer is written (the parsed inputs live as long).
    res.once('close', lease.release);
    if (route?.method === 'POST' && method === 'POST') {
      try {
        // [RFC 9110 §10.1.1] a body that will be refused anyway (too large, overloaded) is refused before it is sent.
        body = await readBody(req, maxBodyBytes, lease, expectsContinue ? () => res.writeContinue() : undefined);
      } catch (error) {
        // The client may still be sending: answer, then end the connection rather than read on.
        const retry: Record<string, string> = isAgentError(error) && error.code === 'AGENT_ERR_OVERLOADED' ? { 'retry-after': '1' } : {};
        if (!res.destroyed) send(res, errorAnswer(error), { connection: 'close', ...retry });
        return;
      }
    }
    // Unread bodies of refused or GET requests are discarded by node:http before the connection is reused.
    if (!route) return send(res, errorAnswer(new AgentError('AGENT_ERR_NO_ROUTE', `${req.method} ${path}`)));
    if (route.method !== method) {
      const allow = route.method === 'GET' ? 'GET, HEAD' : route.method;
      return send(res, errorAnswer(new AgentError('AGENT_ERR_METHOD_NOT_ALLOWED', `${req.method} ${path}; allowed: ${allow}`)), { allow });
    }
    send(res, await route.handle(req, body).catch(errorAnswer));
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse, expectsContinue = false): void => {
    handle(req, res, expectsContinue).catch((error: Error) => {
      log.error({ err: error.message }, 'serving request failed');
      if (!res.headersSent) send(res, errorAnswer(error));
      else res.destroy();
    });
  };
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  // node checks the timeout every connectionsCheckingInterval (default 30 s): check twice per timeout instead.
  const server = createServer({ requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.max(10, Math.min(30_000, requestTimeoutMs / 2)) }, onRequest);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => onRequest(req, res, true));
  server.maxConnections = options.maxConnections ?? 64;
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // Malformed HTTP, headers over node's limit, or a request not whole by the timeout (a slow client): answer with a
    // coded JSON error if the socket still can, never throw.
    if (!socket.writable || error.code === 'ECONNRESET') return socket.destroy();
    const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const { status, body } = errorAnswer(timedOut
      ? new AgentError('AGENT_ERR_REQUEST_TIMEOUT', `send the whole request within ${requestTimeoutMs} ms`)
      : new AgentError('AGENT_ERR_BAD_REQUEST', error.code ?? 'unparsable'));
    const httpStatus = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : status;
    const text = JSON.stringify(body);
    socket.end(`HTTP/1.1 ${httpStatus} ${STATUS_CODES[httpStatus]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: Error) => reject(new AgentError('AGENT_ERR_SERVE_FAILED', `${host}:${options.port}: ${error.message}`, { cause: error })));
    server.listen(options.port, host, () => resolve());
  });
  server.on('error', (error: Error) => log.error({ err: error.message }, 'serving endpoint error'));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
