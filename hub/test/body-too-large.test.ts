/**
 * A request body over the route's limit gets a clean 413 with the error body over a real connection — not a reset
 * connection (the hub used to close the socket with the rest of the body unread, so the kernel sent RST).
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestHub, TEST_ADMIN_TOKEN } from './helpers/test-hub.js';

const BODY_BYTES = 50 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024, 0x20); // JSON whitespace

interface Outcome {
  status: number | undefined;
  body: string;
  /** Every error either side of the exchange raised (ECONNRESET, EPIPE, …) until the socket closed. */
  errors: string[];
}

/** POSTs 50 MB with node's HTTP client (Content-Length or chunked), writing as fast as the socket takes it. */
function postWithHttpClient(url: string, path: string, chunked: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { status: undefined, body: '', errors: [] };
    const { hostname, port } = new URL(url);
    const req = request({
      hostname, port, path, method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(chunked ? {} : { 'content-length': BODY_BYTES }) },
    });
    req.on('response', (res) => {
      outcome.status = res.statusCode;
      res.setEncoding('utf8').on('data', (text: string) => (outcome.body += text)).on('error', (e) => outcome.errors.push(String(e)));
    });
    req.on('error', (error) => outcome.errors.push((error as NodeJS.ErrnoException).code ?? error.message));
    req.on('socket', (socket) => socket.on('close', () => setImmediate(() => resolve(outcome))));
    let sent = 0;
    const pump = (): void => {
      while (sent < BODY_BYTES) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** A client that sends the whole request before it reads a byte of the answer (a simple embedded HTTP stack). */
function postThenRead(url: string, path: string, chunked: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    let received = '';
    const errors: string[] = [];
    socket.on('error', (error) => errors.push((error as NodeJS.ErrnoException).code ?? error.message));
    socket.on('data', (data) => (received += data.toString('utf8')));
    socket.on('close', () => {
      const [head = '', body = ''] = received.split('\r\n\r\n');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
      resolve({ status: status ? Number(status) : undefined, body, errors });
    });
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${TEST_ADMIN_TOKEN}\r\n` +
        (chunked ? 'Transfer-Encoding: chunked\r\n\r\n' : `Content-Length: ${BODY_BYTES}\r\n\r\n`),
    );
    for (let sent = 0; sent < BODY_BYTES; sent += CHUNK.length) {
      socket.write(chunked ? Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')]) : CHUNK);
    }
    if (chunked) socket.write('0\r\n\r\n');
  });
}

describe('request body over the limit', () => {
  it('answers 413 HUB_ERR_PAYLOAD_TOO_LARGE on every route, Content-Length or chunked, without resetting the connection', async () => {
    const testHub = await startTestHub();
    for (const path of ['/v1/enroll', '/v1/enrollment-tokens']) {
      for (const chunked of [false, true]) {
        for (const client of [postWithHttpClient, postThenRead]) {
          const outcome = await client(testHub.httpUrl, path, chunked);
          const what = { path, chunked, client: client.name };
          expect({ ...what, status: outcome.status, errors: outcome.errors }).toEqual({ ...what, status: 413, errors: [] });
          expect((JSON.parse(outcome.body) as { error: { code: string } }).error.code).toBe('HUB_ERR_PAYLOAD_TOO_LARGE');
        }
      }
    }
  });
});
