import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HUB_VERSION } from '../src/version.js';
import { connectDevice, enrollDevice, publishStatus } from './helpers/devices.js';
import { startTestHub, TEST_ADMIN_TOKEN } from './helpers/test-hub.js';

describe('HTTP surface', () => {
  it('GET /healthz', async () => {
    const testHub = await startTestHub({ listen: false });
    const response = await testHub.api<{ ok: boolean; version: string; uptimeSec: number }>('GET', '/healthz', undefined, null);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true, version: HUB_VERSION, uptimeSec: expect.any(Number) });
  });

  it('GET /metrics in the Prometheus text format', async () => {
    const testHub = await startTestHub({ listen: false });
    const response = await testHub.hub.inject({ method: 'GET', url: '/metrics' });
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toContain('# TYPE fedfleet_devices_online gauge\nfedfleet_devices_online 0\n');
    expect(response.body).toContain('# TYPE fedfleet_mqtt_messages_total counter');
  });

  it('serves the OpenAPI document generated from the route schemas', async () => {
    const testHub = await startTestHub({ listen: false });
    const doc = (await testHub.hub.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/devices', '/v1/devices/{id}', '/v1/enroll', '/v1/enrollment-tokens', '/v1/fleet/health', '/v1/events', '/v1/audit', '/healthz', '/metrics']));
    expect(doc.components.securitySchemes.adminToken).toEqual({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/v1/enroll']!.post!.security).toEqual([]);
    expect(Object.keys(doc.paths['/v1/devices/{id}']!.get!.responses)).toEqual(expect.arrayContaining(['200', '401', '404']));
    expect((await testHub.hub.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('answers unknown routes and bad JSON with stable codes', async () => {
    const testHub = await startTestHub({ listen: false });
    expect((await testHub.api<{ error: { code: string } }>('GET', '/nope')).body.error.code).toBe('HUB_ERR_NOT_FOUND');
    const badJson = await testHub.hub.inject({
      method: 'POST',
      url: '/v1/enrollment-tokens',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      payload: '{ not json',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error.code).toBe('HUB_ERR_BAD_REQUEST');
    const huge = await testHub.hub.inject({
      method: 'POST',
      url: '/v1/enroll',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ token: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('HUB_ERR_PAYLOAD_TOO_LARGE');
  });

  it('streams hub events as server-sent events, with the token in the query string', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const url = new URL(`/v1/events?types=device.online&token=${TEST_ADMIN_TOKEN}`, testHub.httpUrl);
    let subscribed!: () => void;
    const connected = new Promise<void>((resolve) => (subscribed = resolve));
    const received = new Promise<string>((resolve, reject) => {
      const req = request(url, (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          if (buffer.includes(': connected\n\n')) subscribed();
          const record = buffer.split('\n\n').find((r) => r.includes('event: device.online'));
          if (record) {
            resolve(record);
            req.destroy();
          }
        });
      });
      req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
      req.end();
    });
    // The stream's hello comment: the route writes it in the same synchronous step as it subscribes, so once it has
    // arrived this stream sees every later event. (Listener counts say nothing: other plugins listen to every event.)
    await Promise.race([connected, received]);
    const client = await connectDevice(testHub, device);
    await publishStatus(client, device.deviceId);
    const record = await received;
    const data = JSON.parse(record.split('\n').find((l) => l.startsWith('data: '))!.slice(6));
    expect(data).toMatchObject({ deviceId: device.deviceId });

    const refused = await fetch(new URL('/v1/events?token=wrong', testHub.httpUrl));
    expect(refused.status).toBe(401);
  });
});
