/**
 * DESIGN §9: every number the API takes is finite and within bounds after coercion, and a refused request stores
 * nothing. Raw JSON bodies, because JSON.stringify would turn Infinity into null before the hub saw it.
 */
import { describe, expect, it } from 'vitest';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from './helpers/test-hub.js';

/** The spellings of a non-finite number a JSON body can carry: strings ajv coerces, and a literal JSON.parse overflows. */
const NON_FINITE_JSON = ['"Infinity"', '"-Infinity"', '"1e309"', '1e309', '-1e309'];

async function send(testHub: TestHub, method: 'GET' | 'POST', url: string, rawJson?: string) {
  const response = await testHub.hub.inject({
    method,
    url,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(rawJson === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(rawJson === undefined ? {} : { payload: rawJson }),
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as { error?: { code: string; message: string } } };
}

function rowCounts(testHub: TestHub): Record<string, number> {
  const tables = ['campaigns', 'rounds', 'enrollment_tokens', 'models', 'model_versions', 'audit_log'];
  return Object.fromEntries(
    tables.map((table) => [table, (testHub.hub.store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n]),
  );
}

describe('non-finite numbers', () => {
  it('refuses them in every integer and number field of POST /v1/rounds and POST /v1/enrollment-tokens, storing nothing', async () => {
    const testHub = await startTestHub({ listen: false });
    const bodies: Array<{ url: string; fields: string[]; base: Record<string, unknown> }> = [
      { url: '/v1/enrollment-tokens', fields: ['ttlSec', 'maxUses'], base: {} },
      {
        url: '/v1/rounds',
        // `mnist-2nn` is a built-in architecture: a request that got through would also create that model.
        fields: ['rounds', 'clients', 'minClients', 'seed', 'epochs', 'batchSize', 'maxExamples', 'overSelect', 'deadlineSec', 'learningRate', 'maxUpdateNorm'],
        base: { model: 'mnist-2nn', clients: 1, minClients: 1 },
      },
    ];
    const before = rowCounts(testHub);
    for (const { url, fields, base } of bodies) {
      for (const field of fields) {
        for (const value of NON_FINITE_JSON) {
          const raw = JSON.stringify({ ...base, [field]: 0 }).replace(`"${field}":0`, `"${field}":${value}`);
          const response = await send(testHub, 'POST', url, raw);
          expect({ url, field, value, status: response.status, code: response.body.error?.code }).toEqual({
            url, field, value, status: 400, code: 'HUB_ERR_VALIDATION',
          });
          expect(response.body.error?.message).toContain(field);
        }
      }
    }
    // Nested and free-form numbers too: strategy options, constraints.
    for (const raw of ['{"model":"mnist-2nn","strategyOptions":{"serverLr":"Infinity"}}', '{"model":"mnist-2nn","constraints":{"maxTemperatureC":"-Infinity"}}']) {
      const response = await send(testHub, 'POST', '/v1/rounds', raw);
      expect([response.status, response.body.error?.code]).toEqual([400, 'HUB_ERR_VALIDATION']);
    }
    expect(rowCounts(testHub)).toEqual(before);
    // Nothing half-stored that breaks the listings afterwards.
    expect((await send(testHub, 'GET', '/v1/rounds')).status).toBe(200);
    expect((await send(testHub, 'GET', '/v1/enrollment-tokens')).status).toBe(200);
  });

  it('refuses them in limit/offset query strings of the listings', async () => {
    const testHub = await startTestHub({ listen: false });
    const urls = ['/v1/devices?limit=', '/v1/devices?offset=', '/v1/rounds?limit=', '/v1/audit?limit=', '/v1/audit?beforeId='];
    for (const url of urls) {
      for (const value of ['Infinity', '-Infinity', '1e309', 'NaN']) {
        const response = await send(testHub, 'GET', `${url}${value}`);
        expect({ url, value, status: response.status, code: response.body.error?.code }).toEqual({ url, value, status: 400, code: 'HUB_ERR_VALIDATION' });
      }
    }
  });

  it('refuses them inside free-form JSON (a schema-less Unknown field)', async () => {
    const testHub = await startTestHub({ listen: false });
    const raw = '{"name":"m","modelJson":{"modelTopology":{"x":[1,2,1e309]}},"weightsBase64":""}';
    const response = await send(testHub, 'POST', '/v1/models/import', raw);
    expect([response.status, response.body.error?.code, response.body.error?.message]).toEqual([
      400, 'HUB_ERR_VALIDATION', 'body/modelJson/modelTopology/x/2 must be a finite number',
    ]);
  });
});

describe('bounds', () => {
  it('every integer and number a request can carry has a minimum and a maximum (OpenAPI document)', async () => {
    const testHub = await startTestHub({ listen: false });
    const doc = (await testHub.api<OpenApiDoc>('GET', '/docs/json')).body;
    const unbounded: string[] = [];
    const walk = (schema: unknown, where: string): void => {
      if (Array.isArray(schema)) return schema.forEach((s, i) => walk(s, `${where}/${i}`));
      if (typeof schema !== 'object' || schema === null) return;
      const s = schema as Record<string, unknown>;
      if (s.$ref && typeof s.$ref === 'string') return walk(resolveRef(doc, s.$ref), `${where}→${s.$ref}`);
      if (s.type === 'integer' || s.type === 'number') {
        const hasMin = s.minimum !== undefined || s.exclusiveMinimum !== undefined;
        const hasMax = s.maximum !== undefined || s.exclusiveMaximum !== undefined;
        if (!hasMin || !hasMax) unbounded.push(where);
      }
      for (const [key, value] of Object.entries(s)) if (key !== 'example' && key !== 'default') walk(value, `${where}/${key}`);
    };
    let checked = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        walk(operation.parameters, `${method.toUpperCase()} ${path} parameters`);
        walk(operation.requestBody, `${method.toUpperCase()} ${path} body`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(unbounded).toEqual([]);
  });
});

interface OpenApiDoc {
  paths: Record<string, Record<string, { parameters?: unknown; requestBody?: unknown }>>;
  components?: Record<string, unknown>;
}

function resolveRef(doc: OpenApiDoc, ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
}
