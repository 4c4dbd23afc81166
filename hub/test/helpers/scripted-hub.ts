/**
 * A stand-in hub for CLI tests: an HTTP server whose answers a test scripts per request (JSON or raw bytes, any
 * status and headers, a different answer on each poll), recording every request. Closed when the test ends.
 */
import { createServer } from 'node:http';
import { onTestFinished } from 'vitest';

export interface ScriptedAnswer {
  status?: number;
  headers?: Record<string, string>;
  /** A Buffer is sent as is; anything else as JSON. */
  body: unknown;
}

/** Answers `"GET /v1/…"` (method, space, URL with its query); undefined → 404 with the hub's error body. */
export type Script = (request: { key: string; body: unknown }) => ScriptedAnswer | undefined;

export interface ScriptedHub {
  url: string;
  /** `"POST /v1/…"` of every request so far, in order. */
  requests: string[];
  /** JSON bodies of the requests, in order (undefined when there was none). */
  bodies: unknown[];
}

export async function scriptedHub(script: Script): Promise<ScriptedHub> {
  const requests: string[] = [];
  const bodies: unknown[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const key = `${request.method} ${request.url}`;
      const text = Buffer.concat(chunks).toString('utf8');
      const body: unknown = text ? JSON.parse(text) : undefined;
      requests.push(key);
      bodies.push(body);
      const answer = script({ key, body }) ?? { status: 404, body: { error: { code: 'HUB_ERR_NOT_FOUND', message: `no route ${key}` } } };
      const raw = Buffer.isBuffer(answer.body);
      response.writeHead(answer.status ?? 200, { 'content-type': raw ? 'application/octet-stream' : 'application/json', ...answer.headers });
      response.end(raw ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests, bodies };
}
