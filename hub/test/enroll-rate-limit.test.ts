/**
 * DESIGN §9: enrollment is rate-limited per client address — every request at `enrollRatePerMin`, refused attempts
 * at `enrollFailuresPerMin` — with 429 HUB_ERR_RATE_LIMITED + Retry-After, a counter, and a throttled warning.
 */
import { describe, expect, it } from 'vitest';
import { enroll } from '@fedfleet/agent';
import { createManualClock } from '../src/clock.js';
import { createEnrollmentRateLimit } from '../src/fleet/enrollment-rate-limit.js';
import { createLogger } from '../src/logger.js';
import { createToken, TEST_PROFILE } from './helpers/devices.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

async function enrollOverHttp(testHub: TestHub, token: string) {
  const response = await fetch(`${testHub.httpUrl}/v1/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, name: 'board', profile: TEST_PROFILE }),
  });
  const body = (await response.json()) as { deviceId?: string; error?: { code: string } };
  return { status: response.status, retryAfter: response.headers.get('retry-after'), code: body.error?.code };
}

async function metric(testHub: TestHub, line: string): Promise<number> {
  const text = (await testHub.hub.inject({ method: 'GET', url: '/metrics' })).body;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.split(' ')[1]) : 0;
}

describe('POST /v1/enroll rate limits', () => {
  it('answers 429 with Retry-After once a client used up its refused attempts, counts and logs it, until they refill', async () => {
    const clock = createManualClock();
    const lines: Array<{ msg: string; level: number; refusedSinceLastLine?: number }> = [];
    const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const testHub = await startTestHub({ clock, logger, config: { enrollFailuresPerMin: 5 } });
    const { token } = await createToken(testHub, { maxUses: 10 });

    const answers = [];
    for (let i = 0; i < 30; i++) answers.push(await enrollOverHttp(testHub, `fft_guess-${i}`));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(answers.slice(5).map((a) => `${a.status} ${a.code} ${a.retryAfter}`))).toEqual(new Set(['429 HUB_ERR_RATE_LIMITED 12']));
    // The right token does not get through either: this address is not heard until its attempts refill.
    expect((await enrollOverHttp(testHub, token)).status).toBe(429);
    expect(await metric(testHub, 'fedfleet_enroll_rate_limited_total{limit="failures"}')).toBe(26);
    // One warning for the flood, not one per refused request.
    expect(lines.filter((l) => l.msg === 'enrollment rate limited')).toHaveLength(1);

    clock.advance(12_000);
    expect((await enrollOverHttp(testHub, token)).status).toBe(201);
    clock.advance(60_000);
    const again = [];
    for (let i = 0; i < 6; i++) again.push((await enrollOverHttp(testHub, 'fft_again')).status);
    expect(again).toEqual([401, 401, 401, 401, 401, 429]);
    // The next line, a minute on, tells how many refusals the first one stood for.
    expect(lines.filter((l) => l.msg === 'enrollment rate limited').map((l) => l.refusedSinceLastLine)).toEqual([1, 26]);
  });

  it('limits all requests of one address at enrollRatePerMin, and no other address', async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({ clock, config: { enrollRatePerMin: 3 } });
    const { token } = await createToken(testHub, { maxUses: 10 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await enrollOverHttp(testHub, token)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const limited = await enrollOverHttp(testHub, token);
    expect([limited.status, limited.retryAfter]).toEqual([429, '20']);
    expect(await metric(testHub, 'fedfleet_enroll_rate_limited_total{limit="requests"}')).toBe(2);

    const elsewhere = await testHub.hub.inject({
      method: 'POST', url: '/v1/enroll', remoteAddress: '192.0.2.7', payload: { token, name: 'other', profile: TEST_PROFILE },
    });
    expect(elsewhere.statusCode).toBe(201);

    clock.advance(20_000);
    expect((await enrollOverHttp(testHub, token)).status).toBe(201);
  });

  it("is waited out by the agent's enroll client as Retry-After says", async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({ clock, config: { enrollRatePerMin: 2 } });
    const { token } = await createToken(testHub, { maxUses: 10 });
    const waits: number[] = [];
    // Waiting moves the hub's clock: the retry comes exactly when the hub said it would admit one.
    const sleep = async (ms: number) => void (waits.push(ms), clock.advance(ms));
    const names = ['a', 'b', 'c', 'd'];
    for (const name of names) await enroll({ hubUrl: testHub.httpUrl, token, name, profile: TEST_PROFILE, sleep });
    expect(waits).toEqual([30_000, 30_000]);
    const listed = await testHub.api<Array<{ name: string }>>('GET', '/v1/devices');
    // Devices enrolled within one manual-clock millisecond have no defined order between them.
    expect(listed.body.map((d) => d.name).sort()).toEqual(names);
  });

  it('counts a malformed body as a refused attempt', async () => {
    const testHub = await startTestHub({ listen: false, config: { enrollFailuresPerMin: 2 } });
    const post = (payload: string) => testHub.hub.inject({ method: 'POST', url: '/v1/enroll', headers: { 'content-type': 'application/json' }, payload });
    expect((await post('{"token":')).statusCode).toBe(400);
    expect((await post('{"token":"fft_x"}')).statusCode).toBe(400);
    expect((await post('{"token":"fft_x"}')).statusCode).toBe(429);
  });
});

describe('enrollment rate limit memory', () => {
  it('forgets clients whose buckets have refilled, and never holds more than maxClients', () => {
    const limits = createEnrollmentRateLimit({ requestsPerMin: 600, failuresPerMin: 20, maxClients: 100 });
    let nowMs = 0;
    for (let i = 0; i < 1000; i++) {
      expect(limits.admit(`10.0.${i >> 8}.${i & 255}`, nowMs).ok).toBe(true);
      limits.refused(`10.0.${i >> 8}.${i & 255}`, nowMs);
      expect(limits.size).toBeLessThanOrEqual(100);
    }
    nowMs += 60_000;
    limits.admit('192.0.2.1', nowMs);
    expect(limits.size).toBe(1);
  });
});
