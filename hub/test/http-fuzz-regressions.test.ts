/**
 * Requests a black-box HTTP fuzzer and curl sent that the hub answered without its error body, or never answered:
 * refusals made by Node's HTTP parser and server before any route runs (transport-errors.ts), header fields that
 * mean different things to different readers (request-headers.ts), a HEAD of the event
 * stream (events-plugin.ts), a body that stops arriving (httpRequestTimeoutSec). Over real sockets: `inject()` skips
 * the parser these cases are about.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from './helpers/test-hub.js';

interface RawExchange {
  /** Every byte the hub sent before it closed the connection. */
  text: string;
  /** The JSON bodies of the responses in `text`, in order (a response without a JSON body is left out). */
  bodies: Array<{ error?: { code?: string } }>;
  statuses: number[];
}

/** Writes `request` as is and reads until the hub closes the connection. */
function exchange(testHub: TestHub, request: string): Promise<RawExchange> {
  const { port } = new URL(testHub.httpUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    socket.on('close', () => {
      const statuses = [...text.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1]));
      const bodies = [...text.matchAll(/^(\{.*\})$/gm)].map((m) => JSON.parse(m[1]!) as RawExchange['bodies'][number]);
      resolve({ text, bodies, statuses });
    });
    socket.write(request);
  });
}

const HOST = 'Host: hub\r\n';

describe('requests refused before any route runs carry the hub error body', () => {
  // [name, raw request, status, code]: what Node's parser refuses (fastify's default answer had no `code`).
  const refused: Array<[string, string, number, string]> = [
    ['an unknown method', `FOO /healthz HTTP/1.1\r\n${HOST}\r\n`, 400, 'HUB_ERR_BAD_REQUEST'],
    ['a request line that is not HTTP', 'GARBAGE\r\n\r\n', 400, 'HUB_ERR_BAD_REQUEST'],
    ['a header name with a space', `GET /healthz HTTP/1.1\r\n${HOST}Bad Header: y\r\n\r\n`, 400, 'HUB_ERR_BAD_REQUEST'],
    ['a NUL in the path', `GET /v1/devices/a\u0000b HTTP/1.1\r\n${HOST}\r\n`, 400, 'HUB_ERR_BAD_REQUEST'],
    ['a Content-Length that is not a number', `POST /v1/enroll HTTP/1.1\r\n${HOST}Content-Length: abc\r\n\r\n`, 400, 'HUB_ERR_BAD_REQUEST'],
    ['two Content-Lengths', `POST /v1/enroll HTTP/1.1\r\n${HOST}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`, 400, 'HUB_ERR_BAD_REQUEST'],
    ['Content-Length with chunked', `POST /v1/enroll HTTP/1.1\r\n${HOST}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'HUB_ERR_BAD_REQUEST'],
    ['a chunk size that is not hex', `POST /v1/enroll HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, 400, 'HUB_ERR_BAD_REQUEST'],
    ['header fields over 16 KiB', `GET /healthz HTTP/1.1\r\n${HOST}X-A: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'HUB_ERR_HEADERS_TOO_LARGE'],
  ];
  it('what the HTTP parser refuses: a coded body, then the connection is closed', async () => {
    const testHub = await startTestHub();
    for (const [name, request, status, code] of refused) {
      const { statuses, bodies } = await exchange(testHub, request);
      expect({ name, statuses, code: bodies[0]?.error?.code }).toEqual({ name, statuses: [status], code });
    }
  });

  it('an HTTP/1.1 request without Host: 400 with a code (Node answered without a body); HTTP/1.0 may omit it', async () => {
    const testHub = await startTestHub();
    const missing = await exchange(testHub, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(missing.statuses).toEqual([400]);
    expect(missing.bodies[0]?.error?.code).toBe('HUB_ERR_BAD_REQUEST');
    const old = await exchange(testHub, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(old.text).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('an Expect other than 100-continue: 417 with a code; CONNECT: 404 with a code (Node dropped the connection)', async () => {
    const testHub = await startTestHub();
    const expectation = await exchange(testHub, `POST /v1/enroll HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nExpect: 200-ok\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}`);
    expect(expectation.statuses).toEqual([417]);
    expect(expectation.bodies[0]?.error?.code).toBe('HUB_ERR_EXPECTATION_FAILED');
    const proxy = await exchange(testHub, `CONNECT example.com:443 HTTP/1.1\r\n${HOST}\r\n`);
    expect(proxy.statuses).toEqual([404]);
    expect(proxy.bodies[0]?.error?.code).toBe('HUB_ERR_NOT_FOUND');
  });
});

describe('header fields read one way here and another way elsewhere are refused', () => {
  const auth = `Authorization: Bearer ${TEST_ADMIN_TOKEN}\r\n`;
  const tokenCount = (testHub: TestHub) => testHub.hub.store.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM enrollment_tokens').get()!.n;
  const post = (headers: string, body: string) =>
    `POST /v1/enrollment-tokens HTTP/1.1\r\n${HOST}${auth}Content-Type: application/json\r\n${headers}Connection: close\r\n\r\n${body}`;

  it('a second Authorization, Host or Content-Type: 400 (Node used the first and ignored the other)', async () => {
    const testHub = await startTestHub();
    const twice: Array<[string, string]> = [
      ['authorization', `GET /v1/devices HTTP/1.1\r\n${HOST}${auth}Authorization: Bearer wrong\r\nConnection: close\r\n\r\n`],
      ['host', `GET /v1/devices HTTP/1.1\r\n${HOST}Host: other\r\n${auth}Connection: close\r\n\r\n`],
      ['content-type', post('Content-Type: text/plain\r\nContent-Length: 2\r\n', '{}')],
    ];
    for (const [name, request] of twice) {
      const { statuses, bodies } = await exchange(testHub, request);
      expect({ name, statuses, code: bodies[0]?.error?.code }).toEqual({ name, statuses: [400], code: 'HUB_ERR_BAD_REQUEST' });
    }
    expect(tokenCount(testHub)).toBe(0);
  });

  it('a body in a content or transfer coding the hub does not decode: 415, nothing stored (it was read as plain JSON)', async () => {
    const testHub = await startTestHub();
    const body = JSON.stringify({ ttlSec: 60 });
    const coded = [
      post(`Content-Encoding: gzip\r\nContent-Length: ${body.length}\r\n`, body),
      post('Transfer-Encoding: gzip, chunked\r\n', `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`),
    ];
    for (const request of coded) {
      const { statuses, bodies } = await exchange(testHub, request);
      expect({ statuses, code: bodies[0]?.error?.code }).toEqual({ statuses: [415], code: 'HUB_ERR_UNSUPPORTED_ENCODING' });
    }
    expect(tokenCount(testHub)).toBe(0);
    // identity is no coding, and a bodyless request's Content-Encoding describes nothing.
    expect((await exchange(testHub, post(`Content-Encoding: identity\r\nContent-Length: ${body.length}\r\n`, body))).statuses).toEqual([201]);
    const bodyless = await exchange(testHub, `GET /v1/devices HTTP/1.1\r\n${HOST}${auth}Content-Encoding: gzip\r\nConnection: close\r\n\r\n`);
    expect(bodyless.statuses).toEqual([200]);
  });
});

describe('requests that were never answered', () => {
  it('HEAD /v1/events answers the headers and ends, so a request pipelined behind it is served', async () => {
    const testHub = await startTestHub();
    const { statuses, text } = await exchange(
      testHub,
      `HEAD /v1/events HTTP/1.1\r\n${HOST}Authorization: Bearer ${TEST_ADMIN_TOKEN}\r\n\r\n` +
        `GET /healthz HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`,
    );
    expect(statuses).toEqual([200, 200]);
    expect(text).toMatch(/content-type: text\/event-stream/i);
    expect(text).toContain('"ok":true');
    expect(testHub.hub.events.listenerCount()).toBe(0);
  });

  it('a body that stops arriving: 408 HUB_ERR_REQUEST_TIMEOUT after httpRequestTimeoutSec, connection closed, nothing stored', async () => {
    const testHub = await startTestHub({ config: { httpRequestTimeoutSec: 1 } });
    const count = () => testHub.hub.store.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM enrollment_tokens').get()!.n;
    const before = count();
    const body = JSON.stringify({ ttlSec: 60 });
    const { statuses, bodies } = await exchange(
      testHub,
      `POST /v1/enrollment-tokens HTTP/1.1\r\n${HOST}Authorization: Bearer ${TEST_ADMIN_TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length + 10}\r\n\r\n${body}`,
    );
    expect(statuses).toEqual([408]);
    expect(bodies[0]?.error?.code).toBe('HUB_ERR_REQUEST_TIMEOUT');
    expect(count()).toBe(before);
  });
});
