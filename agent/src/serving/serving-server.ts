import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentError, isAgentError, type AgentErrorCode } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { InferenceService, ServedPrediction } from './inference-service.js';
import { mediaTypeOf, readBody } from './request-body.js';
import { parseFeedbackRequest, parsePredictRequest } from './serving-requests.js';

/** The port `fedfleet agent` serves on unless told otherwise (agent/docs/agent.md#serving). */
export const DEFAULT_SERVE_PORT = 8431;

export interface ServingServerOptions {
  /** Interface to listen on; default 127.0.0.1 (only local clients: the endpoint has no authentication). */
  host?: string;
  /** TCP port; 0 = any free port (the returned `port` says which). */
  port: number;
  /** Largest request body, bytes; default 4 MiB. */
  maxBodyBytes?: number;
  /** Most inputs in one `{"inputs": …}` request; default 64. */
  maxBatch?: number;
  /** Longest time a client may take to send a whole request, ms; default 30,000. */
  requestTimeoutMs?: number;
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
  AGENT_ERR_NO_ROUTE: 404,
  AGENT_ERR_UNKNOWN_REQUEST: 404,
  AGENT_ERR_METHOD_NOT_ALLOWED: 405,
  AGENT_ERR_BODY_TOO_LARGE: 413,
  AGENT_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  AGENT_ERR_NO_MODEL: 503,
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
  const routes = routesFor(service, options.maxBatch ?? 64);
  const log = options.log ?? silentLogger;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = routes[path];
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    let body: Buffer = Buffer.alloc(0);
    if (route?.method === 'POST' && method === 'POST') {
      try {
        body = await readBody(req, maxBodyBytes);
      } catch (error) {
        // The client may still be sending: answer, then end the connection rather than read on.
        if (!res.destroyed) send(res, errorAnswer(error), { connection: 'close' });
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

  const server = createServer({ requestTimeout: options.requestTimeoutMs ?? 30_000 }, (req, res) => {
    handle(req, res).catch((error: Error) => {
      log.error({ err: error.message }, 'serving request failed');
      if (!res.headersSent) send(res, errorAnswer(error));
      else res.destroy();
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // A malformed request line or headers: answer 400 if the socket still can, never throw.
    if (socket.writable && error.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: Error) => reject(new AgentError('AGENT_ERR_SERVE_FAILED', `${options.host ?? '127.0.0.1'}:${options.port}: ${error.message}`, { cause: error })));
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
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
