/**
 * The hub starts even when stored rows are unusable (rows from before the API refused non-finite numbers, or edited by
 * hand): such a campaign is failed with HUB_ERR_CAMPAIGN_UNUSABLE, the others resume, and no listing (campaigns, devices,
 * enrollment tokens) answers 500.
 */
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import type { CampaignDetailJson, CampaignJson } from '../../src/rounds/schemas.js';
import { startTestHub } from '../helpers/test-hub.js';
import { createToken, RawDevice, startCampaign, startRoundHub, waitFor, waitForCampaign } from './round-helpers.js';

const KNOWN_SECRET = 'fft_known-secret-of-an-unusable-token';

it('fails unusable stored campaigns with a coded reason at start, resumes the others, and lists everything', async () => {
  const first = await startRoundHub();
  const good = await startCampaign(first.api, {
    model: 'tiny', rounds: 1, clients: 1, minClients: 1, overSelect: 1, selectionTimeoutSec: 3600, deadlineSec: 60, evaluate: false,
  });
  expect(good.rounds[0]!.state).toBe('selecting');

  // What the API used to store: JSON turned Infinity into null; SQLite keeps Infinity in an INTEGER column as REAL.
  const db = first.testHub.hub.store.db;
  const goodRow = db.prepare('SELECT * FROM campaigns WHERE id = ?').get(good.id) as Record<string, unknown>;
  const goodConfig = JSON.parse(goodRow.config as string) as Record<string, unknown>;
  const insert = db.prepare(`INSERT INTO campaigns (id, model_id, base_version_id, current_version_id, state, rounds_total, config,
    created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)`);
  const bad = {
    'null-clients': { roundsTotal: 1, config: JSON.stringify({ ...goodConfig, clients: null, seed: null }) },
    'not-json': { roundsTotal: 1, config: '{"clients": 1,' },
    'infinite-rounds': { roundsTotal: Infinity, config: JSON.stringify(goodConfig) },
  };
  for (const [id, row] of Object.entries(bad)) {
    insert.run(id, goodRow.model_id, goodRow.base_version_id, goodRow.base_version_id, row.roundsTotal, row.config, Date.now(), Date.now());
  }
  db.prepare(`INSERT INTO enrollment_tokens (id, token_sha256, labels, expires_at_ms, max_uses, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)`)
    .run('tok-infinite', createHash('sha256').update(KNOWN_SECRET).digest('hex'), '{"site":', Infinity, Infinity, Date.now());
  const insertDevice = db.prepare('INSERT INTO devices (id, name, profile, last_seen_ms, created_at_ms) VALUES (?, ?, ?, ?, ?)');
  insertDevice.run('dev-null-profile', 'null-profile', '{"kind":"x","ramBytes":null,"cores":null,"canTrain":true}', null, Date.now());
  insertDevice.run('dev-broken', 'broken', 'not json', Infinity, Infinity);
  await first.testHub.hub.close();

  // Restart on the same data directory.
  const testHub = await startTestHub({ dataDir: first.testHub.dataDir });
  const api = testHub.api.bind(testHub);

  const listed = await api<CampaignJson[]>('GET', '/v1/rounds');
  expect(listed.status).toBe(200);
  const byId = new Map(listed.body.map((c) => [c.id, c]));
  for (const id of Object.keys(bad)) {
    expect({ id, state: byId.get(id)?.state, code: byId.get(id)?.errorCode }).toEqual({ id, state: 'failed', code: 'HUB_ERR_CAMPAIGN_UNUSABLE' });
    expect((await api('GET', `/v1/rounds/${id}`)).status).toBe(200);
  }
  expect(byId.get('null-clients')?.error).toContain('config.clients is not a finite number');
  expect(byId.get('not-json')?.error).toContain('config is not JSON');
  expect(byId.get('infinite-rounds')?.error).toContain('rounds_total');
  expect(byId.get(good.id)?.state).toBe('running');

  // The good campaign really resumed: its round selects the first device that comes online.
  const device = await RawDevice.enroll(api, testHub.mqttUrl, { name: 'late', token: await createToken(api) });
  await device.connect();
  await waitFor(async () => (await api<{ id: string }[]>('GET', '/v1/devices?status=online')).body.some((d) => d.id === device.deviceId), 5000, 'online');
  const resumed = await waitForCampaign(api, good.id, (c: CampaignDetailJson) => c.rounds[0]?.state === 'training', 5000, 'resumed round training');
  expect(resumed.rounds[0]!.participants.map((p) => p.deviceId)).toEqual([device.deviceId]);

  // Devices with unusable rows list and show.
  const devices = await api<Array<{ id: string; profile: { ramBytes: number } }>>('GET', '/v1/devices');
  expect(devices.status).toBe(200);
  expect(devices.body.find((d) => d.id === 'dev-null-profile')?.profile.ramBytes).toBe(0);
  for (const id of ['dev-null-profile', 'dev-broken']) expect((await api('GET', `/v1/devices/${id}`)).status).toBe(200);

  // The unusable token lists (expired, exhausted) and enrolls nothing.
  const tokens = await api<Array<{ id: string; expired: boolean }>>('GET', '/v1/enrollment-tokens');
  expect(tokens.status).toBe(200);
  expect(tokens.body.find((t) => t.id === 'tok-infinite')?.expired).toBe(true);
  const refused = await api<{ error: { code: string } }>('POST', '/v1/enroll', { token: KNOWN_SECRET, name: 'x', profile: device.profile }, null);
  expect([refused.status, refused.body.error.code]).toEqual([401, 'HUB_ERR_TOKEN_INVALID']);
  const uses = testHub.hub.store.db.prepare(`SELECT uses FROM enrollment_tokens WHERE id = 'tok-infinite'`).get() as { uses: number };
  expect(uses.uses).toBe(0);
});
