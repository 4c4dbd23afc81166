/**
 * The local endpoint against clients nobody here wrote (agent/docs/agent.md#serving): foreign Host names (DNS
 * rebinding from a web page on the device), odd request targets, content codings, many bodies at once, and
 * `Expect: 100-continue`. Raw sockets, because fetch() normalises exactly what is probed.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InferenceService, startServingServer, type ServingServer } from '../../src/serving/index.js';
import { fakeModel, fakeSource } from './fake-model.js';

const servers: ServingServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.destroy());
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(options: { maxBodyBytes?: number; maxInFlightBodyBytes?: number; maxConnections?: number; requestTimeoutMs?: number } = {}) {
  const service = new InferenceService(fakeSource(fakeModel('v1')));
  const server = await startServingServer(service, { port: 0, ...options });
  servers.push(server);
  return { service, port: server.port };
}

function open(port: number): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  sockets.push(socket);
  return socket;
}

/** Writes `request` and collects what comes back until the first complete answer (or the socket closes). */
function exchange(port: number, request: string, socket = open(port)): Promise<{ head: string; status: number; code?: string }> {
  return new Promise((resolve) => {
    let text = '';
    /** The last answer's status line onwards (after a `100 Continue`, the final one). */
    const last = () => text.slice([...text.matchAll(/HTTP\/1\.1 \d{3} /g)].at(-1)?.index ?? text.length);
    const done = () => {
      const answer = last();
      const head = text.slice(0, text.indexOf('\r\n\r\n', text.length - answer.length));
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      const code = /"code":"(\w+)"/.exec(answer)?.[1];
      resolve({ head, status, ...(code ? { code } : {}) });
    };
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      const answer = last();
      const length = /content-length: (\d+)/i.exec(answer);
      const bodyStart = answer.indexOf('\r\n\r\n') + 4;
      if (length && bodyStart >= 4 && !answer.startsWith('HTTP/1.1 100') && answer.length - bodyStart >= Number(length[1])) done();
    });
    socket.on('close', done);
    socket.write(request);
  });
}

/** The answer to `request` once the server has noticed that a client went away (it notices asynchronously). */
async function onceFreed(port: number, request: string) {
  for (let attempt = 0; ; attempt++) {
    const answer = await exchange(port, request);
    if (answer.status === 200 || attempt === 40) return answer;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const INPUT = '{"input":[1,0,0,0]}';
const post = (path: string, host: string | undefined, extra = '', body = INPUT) =>
  `POST ${path} HTTP/1.1\r\n${host === undefined ? '' : `Host: ${host}\r\n`}content-type: application/json\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

describe('serving endpoint, hostile HTTP', () => {
  it('answers only requests that name a loopback host (no DNS rebinding), with 421 AGENT_ERR_BAD_HOST', async () => {
    const { service, port } = await serve();
    for (const host of ['evil.example', 'evil.example:8431', 'localhost.evil.example', '127.0.0.1.nip.io', '10.0.0.5']) {
      expect(await exchange(port, post('/predict', host)), host).toMatchObject({ status: 421, code: 'AGENT_ERR_BAD_HOST' });
    }
    // The absolute form's authority stands in for Host [RFC 9112 §3.2.2].
    expect(await exchange(port, post('http://evil.example/predict', 'localhost'))).toMatchObject({ status: 421, code: 'AGENT_ERR_BAD_HOST' });
    expect(await exchange(port, post('/feedback', 'evil.example', '', '{"requestId":"x","label":1}'))).toMatchObject({ status: 421 });
    expect(service.stats.snapshot()).toEqual({ count: 0 });
    for (const host of ['localhost', `localhost:${port}`, '127.0.0.1', `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST', 'app.localhost']) {
      expect(await exchange(port, post('/predict', host)), host).toMatchObject({ status: 200 });
    }
    expect(await exchange(port, post(`http://127.0.0.1:${port}/predict`, 'evil.example'))).toMatchObject({ status: 200 });
    // HTTP/1.0 may omit Host (scripts do; browsers never do).
    expect(await exchange(port, post('/predict', undefined).replace('HTTP/1.1', 'HTTP/1.0'))).toMatchObject({ status: 200 });
    expect(service.stats.snapshot().count).toBe(9);
  });

  it('routes the request target as sent: no protocol-relative or dot-segment aliases of a route', async () => {
    const { service, port } = await serve();
    for (const path of ['//evil.example/predict', '//predict', '/../predict', '/%2e%2e/predict', '/pre%64ict', '*']) {
      expect(await exchange(port, post(path, 'localhost')), path).toMatchObject({ status: 404, code: 'AGENT_ERR_NO_ROUTE' });
    }
    expect(service.stats.snapshot()).toEqual({ count: 0 });
    expect(await exchange(port, post('/predict?verbose=1#x', 'localhost'))).toMatchObject({ status: 200 });
  });

  it('refuses a body in a content coding it does not decode with 415 (it would be read as plain)', async () => {
    const { service, port } = await serve();
    for (const coding of ['gzip', 'br', 'deflate, identity']) {
      const answer = await exchange(port, post('/predict', 'localhost', `content-encoding: ${coding}\r\n`));
      expect(answer, coding).toMatchObject({ status: 415, code: 'AGENT_ERR_UNSUPPORTED_MEDIA_TYPE' });
    }
    expect(service.stats.snapshot()).toEqual({ count: 0 });
    expect(await exchange(port, post('/predict', 'localhost', 'content-encoding: identity\r\n'))).toMatchObject({ status: 200 });
  });

  it('bounds the body bytes held by all requests at once: 503 AGENT_ERR_OVERLOADED, and the budget comes back', async () => {
    const { port } = await serve({ maxBodyBytes: 1_000, maxInFlightBodyBytes: 2_000 });
    const stalled = (bytes: number, chunked = false) => {
      const socket = open(port);
      const framing = chunked ? 'transfer-encoding: chunked' : `content-length: ${bytes}`;
      const start = chunked ? `${bytes.toString(16)}\r\n${'1'.repeat(bytes)}\r\n` : '1'.repeat(bytes - 1);
      socket.write(`POST /predict HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n${framing}\r\n\r\n${start}`);
      return socket;
    };
    const first = stalled(900);
    stalled(900, true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await exchange(port, post('/predict', 'localhost', '', `{"input":[1,0,0,0]}${' '.repeat(300)}`));
    expect(refused).toMatchObject({ status: 503, code: 'AGENT_ERR_OVERLOADED' });
    expect(refused.head).toMatch(/retry-after: 1/i);
    first.destroy(); // a client that goes away returns its share
    expect(await onceFreed(port, post('/predict', 'localhost'))).toMatchObject({ status: 200 });
    // Answered requests return theirs: many in a row, each near the per-request limit, all fit one after the other.
    for (let i = 0; i < 10; i++) {
      expect(await exchange(port, post('/predict', 'localhost', '', `{"input":[1,0,0,0]}${' '.repeat(900)}`))).toMatchObject({ status: 200 });
    }
  });

  it('bounds the connections held open at once (idle or slow clients), and serves again once they go', async () => {
    const { port } = await serve({ maxConnections: 2 });
    const idle = [open(port), open(port)];
    await Promise.all(idle.map((s) => new Promise((resolve) => s.once('connect', resolve))));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await exchange(port, post('/predict', 'localhost'))).toMatchObject({ status: 0 }); // closed unanswered
    idle[0]!.destroy();
    expect(await onceFreed(port, post('/predict', 'localhost'))).toMatchObject({ status: 200 });
  });

  it('answers what node:http refuses — malformed HTTP, oversized headers, a request that stalls — with coded JSON', async () => {
    const { service, port } = await serve({ requestTimeoutMs: 300 });
    expect(await exchange(port, '\x00\x01garbage\r\n\r\n')).toMatchObject({ status: 400, code: 'AGENT_ERR_BAD_REQUEST' });
    expect(await exchange(port, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nx-a: ${'a'.repeat(20_000)}\r\n\r\n`)).toMatchObject({ status: 431, code: 'AGENT_ERR_BAD_REQUEST' });
    // Slow clients (slow-loris): headers that never end, a body that stops halfway.
    const stalledHead = 'POST /predict HTTP/1.1\r\nHost: localhost\r\ncontent-';
    const stalledBody = 'POST /predict HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"input":[1,';
    for (const request of [stalledHead, stalledBody]) {
      expect(await exchange(port, request)).toMatchObject({ status: 408, code: 'AGENT_ERR_REQUEST_TIMEOUT' });
    }
    expect(service.stats.snapshot()).toEqual({ count: 0 });
  });

  it('refuses a body that will not be accepted before asking for it (Expect: 100-continue)', async () => {
    const { port } = await serve({ maxBodyBytes: 1_000 });
    const head = (bytes: number) => `POST /predict HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${bytes}\r\nexpect: 100-continue\r\n\r\n`;
    const refused = await exchange(port, head(50_000));
    expect(refused).toMatchObject({ status: 413, code: 'AGENT_ERR_BODY_TOO_LARGE' });
    expect(refused.head).not.toMatch(/100 Continue/);
    // An acceptable one is told to continue, then answered.
    const socket = open(port);
    const continued = new Promise<void>((resolve) => socket.once('data', (chunk) => {
      expect(chunk.toString()).toMatch(/^HTTP\/1\.1 100 Continue/);
      resolve();
    }));
    const answer = exchange(port, head(INPUT.length), socket);
    await continued;
    socket.write(INPUT);
    expect(await answer).toMatchObject({ status: 200 });
  });
});
