/**
 * Enrollment: an enrollment token buys a device id and MQTT credentials. The token is checked before the slow
 * password hash and spent inside the transaction that creates the device, so a failed enrollment spends nothing
 * and concurrent enrollments never exceed `maxUses`.
 */
import { randomBytes } from 'node:crypto';
import { generatePassword, hashSecret, type DeviceCredentials } from '../auth/device-credentials.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { HubError } from '../errors.js';
import type { HubEvents } from '../events/hub-events.js';
import type { Store } from '../store/store.js';
import type { DeviceRepo } from './device-repo.js';
import type { EnrollmentTokens } from './enrollment-tokens.js';
import { MAX_LABELS, mergeLabels } from './labels.js';
import type { EnrollRequest, EnrollResponse } from './schemas.js';

export interface EnrollmentDeps {
  store: Pick<Store, 'transaction'>;
  devices: DeviceRepo;
  tokens: EnrollmentTokens;
  credentials: Pick<DeviceCredentials, 'save'>;
  audit: AuditLog;
  events: HubEvents;
  clock: Clock;
  hubPublicKey: string;
  heartbeatSec: number;
  /** The MQTT URL to hand out, given the Host header of the enrollment request. */
  mqttUrlFor(requestHost: string | undefined): string;
  /** External-broker mode: hands the new credentials to the broker (Broker.provisionDevice) before the device has them. */
  provisionBroker?(deviceId: string, password: string): Promise<void>;
}

export function newDeviceId(): string {
  return `dev-${randomBytes(8).toString('hex')}`;
}

export function createEnrollment(deps: EnrollmentDeps) {
  return async function enroll(request: EnrollRequest, context: { requestHost?: string } = {}): Promise<EnrollResponse> {
    deps.tokens.check(request.token);
    const password = generatePassword();
    const hashed = await hashSecret(password);
    const deviceId = newDeviceId();
    const profile = { ...request.profile, cores: request.profile.cores ?? 1, arch: request.profile.arch ?? '' };
    const { labels } = deps.store.transaction(() => {
      const token = deps.tokens.consume(request.token);
      // The token's labels win: an operator's grouping cannot be overridden by the device.
      const labels = mergeLabels(request.labels, token.labels);
      if (Object.keys(labels).length > MAX_LABELS) {
        throw new HubError('HUB_ERR_BAD_LABELS', { message: `a device has at most ${MAX_LABELS} labels` });
      }
      deps.devices.insert({ id: deviceId, name: request.name, labels, profile, enrollmentTokenId: token.id, createdAtMs: deps.clock.now() });
      deps.credentials.save(deviceId, hashed);
      deps.audit.record({ actor: `token:${token.id}`, action: 'device.enrolled', target: deviceId, details: { name: request.name, labels, profile } });
      return { labels };
    });
    await deps.provisionBroker?.(deviceId, password);
    deps.events.emit('device.enrolled', { deviceId, name: request.name, labels, at: new Date(deps.clock.now()).toISOString() });
    return {
      deviceId,
      name: request.name,
      mqttUrl: deps.mqttUrlFor(context.requestHost),
      username: deviceId,
      password,
      clientId: deviceId,
      hubPublicKey: deps.hubPublicKey,
      heartbeatSec: deps.heartbeatSec,
      labels,
    };
  };
}

export type Enroll = ReturnType<typeof createEnrollment>;
