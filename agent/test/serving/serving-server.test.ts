import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFloat32Le } from '@fedfleet/proto';
import { InferenceService, startServingServer, type ServingServer } from '../../src/serving/index.js';
import { fakeModel, fakeSource, inputFor } from './fake-model.js';

const servers: ServingServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(service: InferenceService, options: { maxBodyBytes?: number; maxBatch?: number } = {}): Promise<string> {
  const server = await startServingServer(service, { port: 0, ...options });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

function postJson(url: string, body: unknown, contentType = 'application/json'): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function expectError(response: Response | Promise<Response>, status: number, code: string): Promise<void> {
  const res = await response;
  expect({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }).toEqual({ status, code });
}

describe('serving endpoint', () => {
  it('predicts from JSON, a JSON batch and a little-endian float32 body; labels by feedback', async () => {
    const service = new InferenceService(fakeSource(fakeModel('v1')));
    const url = await serve(service);
    const one = await postJson(`${url}/predict`, { input: Array.from(inputFor(1)) });
    expect(one.status).toBe(200);
    const answer = (await one.json()) as { requestId: string };
    expect(answer).toMatchObject({ modelId: 'm-1', versionId: 'v1', classIndex: 1, scores: [0, 1, 0], requestId: expect.any(String) });

    const binary = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: encodeFloat32Le(Float32Array.of(0, 0, 2.5, 1)) });
    expect(await binary.json()).toMatchObject({ versionId: 'v1', classIndex: 2 });

    const batch = await postJson(`${url}/predict`, { inputs: [[0, 0, 1, 0], [1, 0, 0, 0]] });
    const { predictions } = (await batch.json()) as { predictions: { classIndex: number; requestId: string }[] };
    expect(predictions.map((p) => p.classIndex)).toEqual([2, 0]);

    const feedback = await postJson(`${url}/feedback`, { requestId: answer.requestId, label: 1 });
    expect({ status: feedback.status, body: await feedback.json() }).toEqual({ status: 200, body: { requestId: answer.requestId, label: 1 } });
    expect((await postJson(`${url}/feedback`, { requestId: predictions[0]!.requestId, label: 0 })).status).toBe(200);
    expect(service.stats.snapshot()).toMatchObject({ count: 4, accuracy: 0.5 });

    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ status: 'serving', modelId: 'm-1', versionId: 'v1', format: 'tfjs-layers', encoding: 'fp32' });
  });

  it('refuses bad input with a coded 4xx and changes nothing', async () => {
    const service = new InferenceService(fakeSource(fakeModel('v1')));
    const url = await serve(service, { maxBodyBytes: 1024, maxBatch: 2 });
    const predict = `${url}/predict`;
    await expectError(postJson(predict, { input: [1, 0, 0] }), 400, 'AGENT_ERR_BAD_INPUT'); // wrong length
    await expectError(postJson(predict, '{"input":[1,0,0,1e999]}'), 400, 'AGENT_ERR_BAD_INPUT'); // Infinity
    await expectError(postJson(predict, { input: [1, 0, 0, 1e39] }), 400, 'AGENT_ERR_BAD_INPUT'); // not a finite float32
    await expectError(postJson(predict, { input: [1, '0', 0, 0] }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(predict, { input: [1, null, 0, 0] }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(predict, { input: 'abcd' }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(predict, [1, 0, 0, 0]), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(predict, {}), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(predict, { input: [1, 0, 0, 0], inputs: [[1, 0, 0, 0]] }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(predict, { inputs: [] }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(predict, { inputs: [[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]] }), 400, 'AGENT_ERR_BAD_INPUT'); // over maxBatch
    await expectError(postJson(predict, { inputs: [[1, 0, 0, 0], [1, 0]] }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(predict, '{"input": [1, 0,'), 400, 'AGENT_ERR_BAD_JSON');
    const nan = encodeFloat32Le(Float32Array.of(0, Number.NaN, 0, 0));
    await expectError(fetch(predict, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: nan }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(fetch(predict, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(17) }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(fetch(predict, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(12) }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(predict, { input: [1, 0, 0, 0] }, 'text/plain'), 415, 'AGENT_ERR_UNSUPPORTED_MEDIA_TYPE');
    await expectError(fetch(predict, { method: 'POST', body: new Uint8Array(16) }), 415, 'AGENT_ERR_UNSUPPORTED_MEDIA_TYPE'); // no content type
    await expectError(postJson(predict, { input: new Array(600).fill(0) }), 413, 'AGENT_ERR_BODY_TOO_LARGE');
    await expectError(fetch(`${url}/nope`), 404, 'AGENT_ERR_NO_ROUTE');
    const wrongMethod = await fetch(predict);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await expectError(wrongMethod, 405, 'AGENT_ERR_METHOD_NOT_ALLOWED');
    await expectError(postJson(`${url}/healthz`, {}), 405, 'AGENT_ERR_METHOD_NOT_ALLOWED');
    expect(service.stats.snapshot()).toEqual({ count: 0 });

    const { requestId } = (await (await postJson(predict, { input: [0, 1, 0, 0] })).json()) as { requestId: string };
    const feedback = `${url}/feedback`;
    await expectError(postJson(feedback, { requestId, label: 3 }), 400, 'AGENT_ERR_BAD_INPUT'); // not a class of the model
    await expectError(postJson(feedback, { requestId, label: -1 }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(feedback, { requestId, label: 0.5 }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(feedback, { requestId, label: '1' }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(feedback, { requestId: 7, label: 1 }), 400, 'AGENT_ERR_BAD_INPUT');
    await expectError(postJson(feedback, 'label=1', 'application/x-www-form-urlencoded'), 415, 'AGENT_ERR_UNSUPPORTED_MEDIA_TYPE');
    await expectError(postJson(feedback, '{'), 400, 'AGENT_ERR_BAD_JSON');
    await expectError(postJson(feedback, { requestId: 'unknown', label: 1 }), 404, 'AGENT_ERR_UNKNOWN_REQUEST');
    expect(service.stats.snapshot()).toEqual({ count: 1, p50Ms: expect.any(Number), p95Ms: expect.any(Number) });
    expect((await postJson(feedback, { requestId, label: 1 })).status).toBe(200); // the refusals did not use it up
    await expectError(postJson(feedback, { requestId, label: 1 }), 404, 'AGENT_ERR_UNKNOWN_REQUEST'); // labelled once
    expect(service.stats.snapshot().accuracy).toBe(1);
  });

  it('answers a body far over the limit with 413 rather than a reset connection, and keeps serving', async () => {
    const service = new InferenceService(fakeSource(fakeModel('v1')));
    const url = await serve(service, { maxBodyBytes: 1024 });
    const big = new Uint8Array(3 * 1024 * 1024);
    await expectError(fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: big }), 413, 'AGENT_ERR_BODY_TOO_LARGE');
    // Streamed without a Content-Length: refused once the bytes read pass the limit.
    let sentBytes = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sentBytes >= big.length) return controller.close();
        sentBytes += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const streamed = { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: stream, duplex: 'half' } as RequestInit;
    await expectError(fetch(`${url}/predict`, streamed), 413, 'AGENT_ERR_BODY_TOO_LARGE');
    // A Content-Length over the limit is refused before any of the body arrives.
    const announced = await new Promise<number | string>((resolve) => {
      const req = httpRequest({ port: Number(new URL(url).port), host: '127.0.0.1', method: 'POST', path: '/predict', headers: { 'content-type': 'application/octet-stream', 'content-length': String(64 * 1024 * 1024) } });
      req.on('response', (res) => resolve(res.statusCode ?? 0)).on('error', () => {});
      req.flushHeaders();
      setTimeout(() => resolve('no answer while the body was not sent'), 5_000).unref();
    });
    expect(announced).toBe(413);
    // A malformed request line gets a 400 from node:http's parser and leaves the server up.
    const port = Number(new URL(url).port);
    const status = await new Promise<number>((resolve) => {
      const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/predict', headers: { 'content-length': 'abc' } });
      req.on('response', (res) => resolve(res.statusCode ?? 0)).on('error', () => resolve(-1));
      req.end();
    });
    expect(status).toBe(400);
    expect((await postJson(`${url}/predict`, { input: [1, 0, 0, 0] })).status).toBe(200);
  });

  it('is 503 AGENT_ERR_NO_MODEL without an active model, on /predict and /healthz', async () => {
    const source = fakeSource();
    const url = await serve(new InferenceService(source));
    await expectError(postJson(`${url}/predict`, { input: [1, 0, 0, 0] }), 503, 'AGENT_ERR_NO_MODEL');
    await expectError(fetch(`${url}/healthz`), 503, 'AGENT_ERR_NO_MODEL');
    source.set(fakeModel('v7'));
    expect(await (await postJson(`${url}/predict`, { input: [1, 0, 0, 0] })).json()).toMatchObject({ versionId: 'v7' });
  });

  it('answers from the champion while a throwing challenger shadows it; a failing model is a coded 500', async () => {
    const source = fakeSource(fakeModel('v1'), fakeModel('v2', { fail: true }));
    const service = new InferenceService(source);
    const url = await serve(service);
    const res = await postJson(`${url}/predict`, { input: [0, 0, 1, 0] });
    expect(await res.json()).toMatchObject({ versionId: 'v1', classIndex: 2 });
    await service.shadowIdle();
    expect(service.shadowStats.snapshot()).toMatchObject({ inferences: 1, agreements: 0 });
    source.set(fakeModel('v3', { fail: true }));
    await expectError(postJson(`${url}/predict`, { input: [0, 0, 1, 0] }), 500, 'AGENT_ERR_INFERENCE_FAILED');
  });

  it('refuses to start on a port in use with AGENT_ERR_SERVE_FAILED', async () => {
    const service = new InferenceService(fakeSource());
    const first = await startServingServer(service, { port: 0 });
    servers.push(first);
    await expect(startServingServer(service, { port: first.port })).rejects.toMatchObject({ code: 'AGENT_ERR_SERVE_FAILED' });
  });
});
