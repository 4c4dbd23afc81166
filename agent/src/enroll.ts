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
}

/** `POST /v1/enroll`'s answer: the credentials, less what the agent adds (the hub it asked, when). */
type EnrollResponse = Omit<DeviceCredentials, 'hubUrl' | 'enrolledAt'>;

/**
 * Exchanges an enrollment token for device credentials (`POST /v1/enroll`). The hub's error code is kept in the
 * message so an operator sees `HUB_ERR_TOKEN_EXPIRED` rather than a bare 401.
 */
export async function enroll(request: EnrollRequest): Promise<DeviceCredentials> {
  const doFetch = request.fetch ?? fetch;
  const url = new URL('/v1/enroll', request.hubUrl).toString();
  let response: Response;
  try {
    response = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: request.token, name: request.name, profile: request.profile, labels: request.labels ?? {} }),
    });
  } catch (error) {
    throw new AgentError('AGENT_ERR_HUB_UNREACHABLE', `${url}: ${(error as Error).message}`, { cause: error });
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
