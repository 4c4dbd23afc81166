/**
 * The hub the API fuzzer drives: in memory (inject only), a manual clock so nothing moves between requests, a temp
 * data dir that survives a restart; seeded with real objects (a token, enrolled devices, a model, an imported
 * model, a data set, a campaign) so generated requests reach the code behind the lookups.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildHub, type Hub } from '../../hub/src/build-hub.js';
import { createManualClock } from '../../hub/src/clock.js';
import { createConfig } from '../../hub/src/config.js';
import { createLogger } from '../../hub/src/logger.js';
import { tf } from '../../hub/src/models/tfjs.js';
import { TEST_PROFILE } from '../../hub/test/helpers/devices.js';
import { TEST_ADMIN_TOKEN } from '../../hub/test/helpers/test-hub.js';
import { saveTfjsModel, tinyTfjsModel } from '../../hub/test/rounds/round-helpers.js';
import { fromJsValue, type JsonNode } from './json-text.js';

export interface ApiReply<T> {
  status: number;
  body: T;
}

export interface FuzzHub {
  hub: Hub;
  dataDir: string;
  adminToken: string;
  /** Rows of every table (from sqlite_master, so a table added later is counted too). */
  rowCounts(): Record<string, number>;
  /** Rows inserted, updated or deleted since the database opened (SQLite `total_changes()`; the hub has one connection). */
  rowWrites(): number;
  /** Error log lines (JSON) since the last call: the stack of a 500 goes into the failure report. */
  takeErrorLogs(): string[];
  api<T = unknown>(method: string, url: string, body?: unknown): Promise<ApiReply<T>>;
  close(): Promise<void>;
}

export function createFuzzDataDir(): { dataDir: string; remove(): void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'fedfleet-fuzz-'));
  return { dataDir, remove: () => rmSync(dataDir, { recursive: true, force: true }) };
}

export async function startFuzzHub(dataDir: string): Promise<FuzzHub> {
  const config = createConfig({
    dataDir, httpPort: 0, mqttPort: 0, host: '127.0.0.1', logLevel: 'silent', adminToken: TEST_ADMIN_TOKEN,
    // Generous enrollment limits: at the defaults the fuzzer's failed enrollments would soon turn every
    // `POST /v1/enroll` into a 429 and hide the code behind it.
    enrollRatePerMin: 1_000_000, enrollFailuresPerMin: 1_000_000,
  });
  const errorLogs: string[] = [];
  const logger = createLogger('error', { write: (line: string) => void errorLogs.push(line.trim()) });
  const hub = buildHub(config, { clock: createManualClock(), logger });
  await hub.ready();
  const db = hub.store.db;
  const tables = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all()
    .map((row) => row.name);
  const countAll = db.prepare<[], Record<string, number>>(
    `SELECT ${tables.map((t) => `(SELECT COUNT(*) FROM "${t}") AS "${t}"`).join(', ')}`,
  );
  const totalChanges = db.prepare<[], { n: number }>('SELECT total_changes() AS n');
  return {
    hub,
    dataDir,
    adminToken: TEST_ADMIN_TOKEN,
    rowCounts: () => ({ ...countAll.get()! }),
    rowWrites: () => totalChanges.get()!.n,
    takeErrorLogs: () => errorLogs.splice(0),
    async api(method, url, body) {
      const response = await hub.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return { status: response.statusCode, body: (response.body ? JSON.parse(response.body) : undefined) as never };
    },
    close: () => hub.close(),
  };
}

/** What the seeding created: real ids by collection, and hints for the request generator. */
export interface SeededHub {
  idsBySegment: Record<string, string[]>;
  hints: Record<string, fc.Arbitrary<JsonNode>>;
}

async function expectCreated<T>(reply: Promise<ApiReply<T>>, what: string): Promise<T> {
  const { status, body } = await reply;
  if (status !== 201 && status !== 200) throw new Error(`seeding ${what} failed: ${status} ${JSON.stringify(body)}`);
  return body;
}

function base64Floats(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('base64');
}

export async function seedHub(fuzzHub: FuzzHub): Promise<SeededHub> {
  const { api } = fuzzHub;
  await tf.setBackend('cpu');
  const token = await expectCreated(api<{ id: string; token: string }>('POST', '/v1/enrollment-tokens', { labels: { fuzz: 'yes' }, ttlSec: 86_400, maxUses: 1_000_000 }), 'a token');
  const spareToken = await expectCreated(api<{ id: string }>('POST', '/v1/enrollment-tokens', { ttlSec: 3600, maxUses: 1 }), 'a token');
  const deviceIds: string[] = [];
  for (const name of ['fuzz-a', 'fuzz-b', 'fuzz-c', 'fuzz-d', 'fuzz-e', 'fuzz-f']) {
    const device = await expectCreated(api<{ deviceId: string }>('POST', '/v1/enroll', { token: token.token, name, profile: TEST_PROFILE, labels: { zone: name } }), 'a device');
    deviceIds.push(device.deviceId);
  }
  const created = await expectCreated(
    api<{ model: { id: string }; version: { id: string } }>('POST', '/v1/models', { name: 'fuzz-cnn', architecture: 'tiny-cnn', seed: 7 }),
    'a model',
  );
  const tiny = tinyTfjsModel();
  const { modelJson, weights } = await saveTfjsModel(tiny);
  tiny.dispose();
  const weightsBase64 = Buffer.from(weights).toString('base64');
  const imported = await expectCreated(
    api<{ model: { id: string }; version: { id: string } }>('POST', '/v1/models/import', { name: 'fuzz-tiny', modelJson, weightsBase64 }),
    'an imported model',
  );
  // Fits the imported tiny model (4 inputs, 3 classes), so campaigns may name it as their validation set.
  const dataset = {
    name: 'fuzz-set', inputShape: [4], numClasses: 3, xBase64: base64Floats([0.25, -1, 0.5, 0.75, 1, 2, 3, -4]), yBase64: Buffer.from([1, 2]).toString('base64'),
  };
  const createdSet = await expectCreated(api<{ id: string }>('POST', '/v1/datasets', dataset), 'a data set');
  const campaign = await expectCreated(api<{ id: string }>('POST', '/v1/rounds', { model: 'fuzz-tiny', clients: 1, rounds: 2 }), 'a campaign');
  const cancelled = await expectCreated(api<{ id: string }>('POST', '/v1/rounds', { model: 'fuzz-cnn', clients: 2 }), 'a campaign');
  await expectCreated(api('POST', `/v1/rounds/${cancelled.id}/cancel`), 'a cancellation');

  const pick = (...values: unknown[]) => fc.constantFrom(...values.map((v) => fromJsValue(v)));
  return {
    idsBySegment: {
      'enrollment-tokens': [token.id, spareToken.id],
      devices: deviceIds,
      models: [created.model.id, imported.model.id, 'fuzz-cnn', 'fuzz-tiny'],
      versions: ['1', 'latest', created.version.id, imported.version.id, '2'],
      datasets: [createdSet.id, 'fuzz-set'],
      rounds: [campaign.id, cancelled.id],
    },
    hints: {
      token: pick(token.token),
      name: fc.oneof(pick('fuzz-cnn', 'fuzz-set', 'fuzz-tiny'), fc.stringMatching(/^[a-z][a-z0-9-]{2,12}$/).map(fromJsValue)),
      // tiny-cnn mostly: a mnist-2nn version is an 800 kB blob, and the fuzzer creates many models.
      architecture: fc.oneof({ arbitrary: pick('tiny-cnn'), weight: 6 }, { arbitrary: pick('mnist-2nn'), weight: 1 }),
      model: pick(created.model.id, imported.model.id, 'fuzz-cnn', 'fuzz-tiny', 'tiny-cnn'),
      baseVersion: pick(1, 'latest', created.version.id, imported.version.id),
      selector: pick('', 'fuzz=yes', 'zone!=fuzz-a,fuzz', '!zone'),
      validationSet: pick(createdSet.id, 'fuzz-set'),
      profile: pick(TEST_PROFILE),
      labels: pick({ fuzz: 'yes' }, { zone: 'fuzz-a', tier: 'edge' }),
      inputShape: pick(dataset.inputShape),
      numClasses: pick(dataset.numClasses),
      xBase64: fc.oneof({ arbitrary: pick(dataset.xBase64), weight: 3 }, pick(base64Floats([Number.NaN, 1, 2, 3, 4, 5, 6, 7]), base64Floats([1, 2, 3]))),
      yBase64: fc.oneof({ arbitrary: pick(dataset.yBase64), weight: 3 }, pick(Buffer.from([7, 0]).toString('base64'), '')),
      modelJson: pick(modelJson),
      weightsBase64: pick(weightsBase64),
      types: pick('device.online', 'device.online,round.committed'),
      state: pick('running', 'cancelled', 'failed', 'completed'),
      action: pick('model.created', 'campaign.started', 'device.enrolled'),
      target: pick(created.model.id, deviceIds[0]!),
      clients: pick(1, 2),
      minClients: pick(1),
      rounds: pick(1, 3),
      strategy: pick('fedavg', 'fedprox', 'fedmedian'),
      strategyOptions: pick({}),
    },
  };
}
