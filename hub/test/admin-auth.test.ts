import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildHub } from '../src/build-hub.js';
import { createConfig } from '../src/config.js';
import { startTestHub, tempDataDir, TEST_ADMIN_TOKEN } from './helpers/test-hub.js';

/** Routes anyone may call. */
const PUBLIC_ROUTES = new Set(['GET /healthz', 'GET /metrics', 'POST /v1/enroll', 'GET /', 'GET /dashboard/*']);

describe('admin authentication', () => {
  it('requires the admin token on every route that is not public (401 HUB_ERR_UNAUTHORIZED)', async () => {
    const config = createConfig({ dataDir: tempDataDir(), logLevel: 'silent', adminToken: TEST_ADMIN_TOKEN });
    const hub = buildHub(config);
    const routes: Array<{ method: string; url: string }> = [];
    hub.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (method === 'HEAD' || route.url.startsWith('/docs')) continue;
        routes.push({ method, url: route.url });
      }
    });
    await hub.ready();
    try {
      const adminRoutes = routes.filter((r) => !PUBLIC_ROUTES.has(`${r.method} ${r.url}`));
      expect(adminRoutes.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
        [
          'DELETE /v1/devices/:id',
          'DELETE /v1/enrollment-tokens/:id',
          'GET /v1/audit',
          'GET /v1/devices',
          'GET /v1/devices/:id',
          'GET /v1/devices/:id/telemetry',
          'GET /v1/devices/:id/quality',
          'GET /v1/enrollment-tokens',
          'GET /v1/events',
          'GET /v1/fleet/health',
          'PATCH /v1/devices/:id',
          'POST /v1/enrollment-tokens',
          'GET /v1/models',
          'POST /v1/models',
          'POST /v1/models/import',
          'GET /v1/models/:id',
          'GET /v1/models/:id/versions',
          'GET /v1/models/:id/versions/:version',
          'GET /v1/models/:id/versions/:version/artifact',
          'GET /v1/models/:id/versions/:version/bundle',
          'GET /v1/models/:id/versions/:version/quantizations',
          'POST /v1/models/:id/versions/:version/quantizations',
          'GET /v1/quantizations/:id',
          'GET /v1/datasets',
          'POST /v1/datasets',
          'GET /v1/datasets/:id',
          'GET /v1/rounds',
          'POST /v1/rounds',
          'GET /v1/rounds/:id',
          'POST /v1/rounds/:id/cancel',
          'GET /v1/update-rejections',
          'GET /v1/rollouts',
          'POST /v1/rollouts',
          'GET /v1/rollouts/:id',
          'POST /v1/rollouts/:id/pause',
          'POST /v1/rollouts/:id/resume',
          'POST /v1/rollouts/:id/abort',
          'GET /v1/alerts',
          'POST /v1/alerts/:id/ack',
          'GET /v1/loop-policies',
          'POST /v1/loop-policies',
          'GET /v1/loop-policies/:id',
          'PATCH /v1/loop-policies/:id',
          'DELETE /v1/loop-policies/:id',
          'GET /v1/loop-policies/:id/actions',
        ].sort(),
      );
      for (const { method, url } of adminRoutes) {
        const path = url.replace(':id', 'dev-0000000000000000');
        for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${TEST_ADMIN_TOKEN}` }]) {
          const response = await hub.inject({ method: method as 'GET', url: path, headers, ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }) });
          expect(response.statusCode, `${method} ${url}`).toBe(401);
          expect(response.json()).toEqual({ error: { code: 'HUB_ERR_UNAUTHORIZED', message: expect.any(String) } });
          expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
        }
      }
      // Public routes answer without a token.
      expect((await hub.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await hub.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
      expect((await hub.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
      // The dashboard's static shell and files are public; its data comes from the API above (hub/docs/dashboard.md).
      expect((await hub.inject({ method: 'GET', url: '/' })).statusCode).toBe(200);
      expect((await hub.inject({ method: 'GET', url: '/dashboard/app.js' })).statusCode).toBe(200);
      // Unknown routes are 404s, not 401s.
      expect((await hub.inject({ method: 'GET', url: '/v1/nope' })).json().error.code).toBe('HUB_ERR_NOT_FOUND');
    } finally {
      await hub.close();
    }
  });

  it('accepts the token as ?token= only on the event stream', async () => {
    const testHub = await startTestHub();
    const query = await testHub.hub.inject({ method: 'GET', url: `/v1/devices?token=${TEST_ADMIN_TOKEN}` });
    expect(query.statusCode).toBe(401);
  });

  it('generates a token on first start: file 0600, only its hash in the database, stable across restarts', async () => {
    const dataDir = tempDataDir();
    const config = createConfig({ dataDir, logLevel: 'silent', httpPort: 0, mqttPort: 0, host: '127.0.0.1' });
    const first = buildHub(config);
    await first.ready();
    const path = join(dataDir, 'admin.token');
    const token = readFileSync(path, 'utf8').trim();
    expect(token).toMatch(/^ffa_[A-Za-z0-9_-]{43}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const rows = first.store.db.prepare('SELECT key, value FROM settings').all() as Array<{ key: string; value: string }>;
    expect(rows).toEqual([{ key: 'admin_token_sha256', value: createHash('sha256').update(token).digest('hex') }]);
    const dump = JSON.stringify(first.store.db.prepare("SELECT * FROM settings").all());
    expect(dump).not.toContain(token);
    expect(first.adminToken.source).toBe('generated');
    expect((await first.inject({ method: 'GET', url: '/v1/devices', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    await first.close();

    const second = buildHub(config);
    await second.ready();
    expect(second.adminToken.source).toBe('stored');
    expect(readFileSync(path, 'utf8').trim()).toBe(token);
    expect((await second.inject({ method: 'GET', url: '/v1/devices', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    await second.close();
  });

  it('creates the hub Ed25519 key (0600) once and hands its public key to devices', async () => {
    const testHub = await startTestHub({ listen: false });
    const path = join(testHub.dataDir, 'hub-ed25519.pem');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
    const signature = testHub.hub.identity.sign(Buffer.from('manifest'));
    expect(testHub.hub.identity.verify(Buffer.from('manifest'), signature)).toBe(true);
    const publicKey = testHub.hub.identity.publicKeyPem;
    await testHub.hub.close();
    const again = await startTestHub({ dataDir: testHub.dataDir, listen: false });
    expect(again.hub.identity.publicKeyPem).toBe(publicKey);
  });
});
