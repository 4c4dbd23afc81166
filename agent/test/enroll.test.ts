/** The agent's enroll client waits out 429 answers (per-client enrollment limits) as their Retry-After says. */
import { describe, expect, it } from 'vitest';
import { enroll, retryAfterMs } from '../src/enroll.js';

const CREDENTIALS = {
  deviceId: 'dev-1', name: 'board', mqttUrl: 'mqtt://hub:1883', username: 'dev-1', password: 'p', clientId: 'dev-1',
  hubPublicKey: 'k', heartbeatSec: 10, labels: {},
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

const rateLimited = (retryAfter?: string) =>
  json(429, { error: { code: 'HUB_ERR_RATE_LIMITED', message: 'too many enrollment requests' } }, retryAfter === undefined ? {} : { 'retry-after': retryAfter });

function scripted(responses: Response[]): { fetch: typeof fetch; calls: () => number } {
  let calls = 0;
  return { fetch: (async () => responses[calls++]!) as typeof fetch, calls: () => calls };
}

describe('enroll', () => {
  it('retries after each 429 as long as its Retry-After says (seconds, HTTP-date, or 1 s when absent)', async () => {
    const waits: number[] = [];
    const inFiveSec = new Date(Date.now() + 5000).toUTCString();
    const hub = scripted([rateLimited('2'), rateLimited(inFiveSec), rateLimited(), json(201, CREDENTIALS)]);
    const creds = await enroll({
      hubUrl: 'http://hub:8080', token: 'fft_x', name: 'board', profile: {}, fetch: hub.fetch,
      sleep: async (ms) => void waits.push(ms),
    });
    expect(creds.deviceId).toBe('dev-1');
    expect(hub.calls()).toBe(4);
    expect(waits[0]).toBe(2000);
    expect(waits[1]).toBeGreaterThan(3000);
    expect(waits[1]).toBeLessThanOrEqual(5000);
    expect(waits[2]).toBe(1000);
  });

  it('gives up with the hub code once the waits would exceed maxRateLimitWaitMs', async () => {
    const waits: number[] = [];
    const hub = scripted([rateLimited('30'), rateLimited('30'), rateLimited('30')]);
    const attempt = enroll({
      hubUrl: 'http://hub:8080', token: 'fft_x', name: 'board', profile: {}, fetch: hub.fetch, maxRateLimitWaitMs: 60_000,
      sleep: async (ms) => void waits.push(ms),
    });
    await expect(attempt).rejects.toMatchObject({ code: 'AGENT_ERR_ENROLL_FAILED', message: expect.stringContaining('HUB_ERR_RATE_LIMITED') });
    expect(waits).toEqual([30_000, 30_000]);
  });

  it('reads Retry-After as RFC 9110 defines it', () => {
    expect(retryAfterMs('120')).toBe(120_000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2015, 9, 21, 7, 27, 0))).toBe(60_000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2016, 0, 1))).toBe(0);
    for (const bad of [null, '', 'soon', '-5', '1.5']) expect(retryAfterMs(bad)).toBeUndefined();
  });
});
