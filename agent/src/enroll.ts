import { AgentError } from './errors.js';
import type { DeviceCredentials } from './credentials.js';
import type { HardwareProfileProps } from '@fedfleet/proto';

export interface EnrollRequest {
  hubUrl: string;
  token: string;
  name: string;
  profile: HardwareProfileProps;
  labels?: Record<string, string>;
  /** Injected in tests. Default global fetch. */
  fetch?: typeof fetch;
  /**
   * How long, in total, to wait out 429 answers (the hub limits enrollments per client address) before giving up.
   * Each wait is what the answer's Retry-After header says. Default 10 minutes.
   */
  maxRateLimitWaitMs?: number;
  /** Waits `ms`; injected in tests. Default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 10 * 60_000;
/** Wait when a 429 carries no usable Retry-After. */
const DEFAULT_RETRY_AFTER_MS = 1000;

/** Retry-After [RFC 9110 §10.2.3]: delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Every HTTP-date form starts with a day name ("Sun, 06 Nov 1994 08:49:37 GMT"); Date.parse alone takes "-5".
  if (!/^[A-Za-z]{3}/.test(trimmed)) return undefined;
  const atMs = Date.parse(trimmed);
  return Number.isNaN(atMs) ? undefined : Math.max(0, atMs - nowMs);
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `POST /v1/enroll`'s answer: the credentials, less what the agent adds (the hub it asked, when). */
type EnrollResponse = Omit<DeviceCredentials, 'hubUrl' | 'enrolledAt'>;

/**
 * Exchanges an enrollment token for device credentials (`POST /v1/enroll`). The hub's error code is kept in the
 * message so an operator sees `HUB_ERR_TOKEN_EXPIRED` rather than a bare 401. A 429 (many devices enrolling from
 * one address, e.g. a simulated fleet or a NAT) is waited out as its Retry-After says, up to `maxRateLimitWaitMs`.
 */
export async function enroll(request: EnrollRequest): Promise<DeviceCredentials> {
  const doFetch = request.fetch ?? fetch;
  const sleep = request.sleep ?? sleepMs;
  const maxWaitMs = request.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
  const url = new URL('/v1/enroll', request.hubUrl).toString();
  const payload = JSON.stringify({ token: request.token, name: request.name, profile: request.profile, labels: request.labels ?? {} });
  let response: Response;
  for (let waitedMs = 0; ; ) {
    try {
      response = await doFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    } catch (error) {
      throw new AgentError('AGENT_ERR_HUB_UNREACHABLE', `${url}: ${(error as Error).message}`, { cause: error });
    }
    if (response.status !== 429) break;
    const waitMs = retryAfterMs(response.headers.get('retry-after')) ?? DEFAULT_RETRY_AFTER_MS;
    if (waitedMs + waitMs > maxWaitMs) break; // reported below with the hub's code
    await response.body?.cancel();
    await sleep(waitMs);
    waitedMs += waitMs;
  }
  const body = (await response.json().catch(() => undefined)) as
    | (EnrollResponse & { error?: { code?: string; message?: string } })
    | undefined;
  if (!response.ok || !body || body.error) {
    const code = body?.error?.code ?? `HTTP ${response.status}`;
    throw new AgentError('AGENT_ERR_ENROLL_FAILED', `${code}: ${body?.error?.message ?? response.statusText}`);
  }
  return {
    deviceId: body.deviceId,
    name: body.name,
    hubUrl: request.hubUrl,
    mqttUrl: body.mqttUrl,
    username: body.username,
    password: body.password,
    clientId: body.clientId ?? body.deviceId,
    hubPublicKey: body.hubPublicKey,
    heartbeatSec: body.heartbeatSec,
    labels: body.labels ?? {},
    enrolledAt: new Date().toISOString(),
  };
}
