import { describe, expect, it } from 'vitest';
import { createManualClock } from '../src/clock.js';
import type { EnrollResponse } from '../src/fleet/schemas.js';
import { connectDevice, createToken, TEST_PROFILE } from './helpers/devices.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

function enroll(testHub: TestHub, token: string, extra: Record<string, unknown> = {}) {
  return testHub.api<EnrollResponse & { error: { code: string } }>('POST', '/v1/enroll', { token, name: 'board', profile: TEST_PROFILE, ...extra }, null);
}

describe('enrollment tokens', () => {
  it('shows the token once and never lists its secret', async () => {
    const testHub = await startTestHub();
    const created = await testHub.api<Record<string, unknown>>('POST', '/v1/enrollment-tokens', { labels: { site: 'lab' }, ttlSec: 3600, maxUses: 5 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ labels: { site: 'lab' }, maxUses: 5 });
    expect(created.body.token).toMatch(/^fft_/);
    expect(Object.keys(created.body).sort()).toEqual(['expiresAt', 'id', 'labels', 'maxUses', 'token']);
    const listed = await testHub.api<Array<Record<string, unknown>>>('GET', '/v1/enrollment-tokens');
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0]).toMatchObject({ id: created.body.id, uses: 0, maxUses: 5, revoked: false, expired: false });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token as string);
    const row = testHub.hub.store.db.prepare('SELECT * FROM enrollment_tokens').get() as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(created.body.token as string);
  });

  it('rejects bad token requests with every violation', async () => {
    const testHub = await startTestHub();
    const response = await testHub.api<{ error: { code: string; message: string } }>('POST', '/v1/enrollment-tokens', {
      labels: { 'bad key!': 'x' },
      ttlSec: 1,
      maxUses: 0,
      extra: true,
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('HUB_ERR_VALIDATION');
    expect(response.body.error.message).toMatch(/ttlSec/);
    expect(response.body.error.message).toMatch(/maxUses/);
  });
});

describe('POST /v1/enroll', () => {
  it('returns credentials, the hub key and merged labels (token labels win)', async () => {
    const testHub = await startTestHub();
    const { token } = await createToken(testHub, { labels: { site: 'lab', tier: 'edge' }, maxUses: 2 });
    const response = await enroll(testHub, token, { labels: { site: 'home', room: 'kitchen' } });
    expect(response.status).toBe(201);
    const body = response.body;
    expect(body.deviceId).toMatch(/^dev-[0-9a-f]{16}$/);
    expect(body).toMatchObject({
      name: 'board',
      username: body.deviceId,
      clientId: body.deviceId,
      heartbeatSec: 10,
      labels: { room: 'kitchen', site: 'lab', tier: 'edge' },
      mqttUrl: `mqtt://localhost:${new URL(testHub.mqttUrl).port}`,
    });
    expect(body.password.length).toBeGreaterThanOrEqual(40);
    expect(body.hubPublicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const stored = testHub.hub.store.db.prepare('SELECT hash, salt, params FROM device_credentials WHERE device_id = ?').get(body.deviceId) as Record<string, string>;
    expect(stored.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(stored.params)).toMatchObject({ N: 4096, r: 8, p: 1 });
    expect(JSON.stringify(stored)).not.toContain(body.password);
    // The credentials work.
    const client = await connectDevice(testHub, body);
    expect(client.connected).toBe(true);
  });

  it('uses publicMqttUrl when configured', async () => {
    const testHub = await startTestHub({ config: { publicMqttUrl: 'mqtts://hub.example.net:8883' } });
    const { token } = await createToken(testHub);
    expect((await enroll(testHub, token)).body.mqttUrl).toBe('mqtts://hub.example.net:8883');
  });

  it('refuses an unknown token with 401 HUB_ERR_TOKEN_INVALID', async () => {
    const testHub = await startTestHub();
    await createToken(testHub);
    for (const token of ['fft_not-a-real-token', 'garbage']) {
      const response = await enroll(testHub, token);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('HUB_ERR_TOKEN_INVALID');
    }
  });

  it('refuses an exhausted token with 403 HUB_ERR_TOKEN_EXHAUSTED', async () => {
    const testHub = await startTestHub();
    const { token } = await createToken(testHub, { maxUses: 1 });
    expect((await enroll(testHub, token)).status).toBe(201);
    const response = await enroll(testHub, token);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('HUB_ERR_TOKEN_EXHAUSTED');
  });

  it('refuses an expired token with 410 HUB_ERR_TOKEN_EXPIRED', async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({ clock });
    const { token } = await createToken(testHub, { ttlSec: 60, maxUses: 10 });
    clock.advance(59_000);
    expect((await enroll(testHub, token)).status).toBe(201);
    clock.advance(1_000);
    const response = await enroll(testHub, token);
    expect(response.status).toBe(410);
    expect(response.body.error.code).toBe('HUB_ERR_TOKEN_EXPIRED');
  });

  it('refuses a revoked token', async () => {
    const testHub = await startTestHub();
    const { id, token } = await createToken(testHub, { maxUses: 10 });
    expect((await testHub.api('DELETE', `/v1/enrollment-tokens/${id}`)).status).toBe(200);
    expect((await enroll(testHub, token)).body.error.code).toBe('HUB_ERR_TOKEN_INVALID');
  });

  it('spends a token atomically under concurrent enrollments', async () => {
    const testHub = await startTestHub();
    const { token } = await createToken(testHub, { maxUses: 3 });
    const responses = await Promise.all(Array.from({ length: 10 }, () => enroll(testHub, token)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 403)).toHaveLength(7);
    const [listed] = (await testHub.api<Array<{ uses: number }>>('GET', '/v1/enrollment-tokens')).body;
    expect(listed!.uses).toBe(3);
    expect((await testHub.api<unknown[]>('GET', '/v1/devices')).body).toHaveLength(3);
  });

  it('spends nothing when the request is invalid', async () => {
    const testHub = await startTestHub();
    const { token } = await createToken(testHub, { maxUses: 1 });
    const bad = await enroll(testHub, token, { profile: { kind: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('HUB_ERR_VALIDATION');
    expect((await enroll(testHub, token)).status).toBe(201);
  });

  it('audit-logs token creation and enrollment', async () => {
    const testHub = await startTestHub();
    const { id, token } = await createToken(testHub, { labels: { site: 'lab' } });
    const device = (await enroll(testHub, token)).body;
    const audit = await testHub.api<Array<{ action: string; target: string; actor: string }>>('GET', '/v1/audit');
    expect(audit.body.map((e) => [e.action, e.target, e.actor])).toEqual([
      ['device.enrolled', device.deviceId, `token:${id}`],
      ['token.created', id, 'admin'],
    ]);
  });
});
