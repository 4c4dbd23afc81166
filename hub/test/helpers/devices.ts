/** Test devices: enrollment through the API and mqtt.js clients speaking the fedfleet envelope. */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { onTestFinished } from 'vitest';
import { DeviceState, deviceTopic, encodeEnvelope, type StatusProps, type TelemetryProps } from '@fedfleet/proto';
import type { EnrollResponse } from '../../src/fleet/schemas.js';
import type { TestHub } from './test-hub.js';

export const TEST_PROFILE = { kind: 'test-board', ramBytes: 512 * 1024 ** 2, flashBytes: 8 * 1024 ** 3, cpuMhz: 1500, int8Only: false, canTrain: true, cores: 4, arch: 'arm64' };

export async function createToken(testHub: TestHub, body: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const response = await testHub.api<{ id: string; token: string }>('POST', '/v1/enrollment-tokens', body);
  if (response.status !== 201) throw new Error(`token creation failed: ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function enrollDevice(
  testHub: TestHub,
  options: { name?: string; labels?: Record<string, string>; tokenLabels?: Record<string, string>; token?: string } = {},
): Promise<EnrollResponse> {
  const token = options.token ?? (await createToken(testHub, { labels: options.tokenLabels ?? {} })).token;
  const response = await testHub.api<EnrollResponse>(
    'POST',
    '/v1/enroll',
    { token, name: options.name ?? 'test-device', profile: TEST_PROFILE, ...(options.labels ? { labels: options.labels } : {}) },
    null,
  );
  if (response.status !== 201) throw new Error(`enrollment failed: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Connects as the device (with an OFFLINE last will unless `will: false`), closed when the test ends. */
export async function connectDevice(
  testHub: TestHub,
  device: Pick<EnrollResponse, 'deviceId' | 'username' | 'password' | 'clientId'>,
  options: Omit<IClientOptions, 'will'> & { will?: false } = {},
): Promise<MqttClient> {
  const { will, ...mqttOptions } = options;
  const client = await mqtt.connectAsync(testHub.mqttUrl, {
    username: device.username,
    password: device.password,
    clientId: device.clientId,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...(will === false
      ? {}
      : {
          will: {
            topic: deviceTopic(device.deviceId, 'status'),
            payload: Buffer.from(statusPayload(device.deviceId, { state: DeviceState.DEVICE_STATE_OFFLINE, reason: 'will' })),
            qos: 1,
            retain: true,
          },
        }),
    ...mqttOptions,
  });
  onTestFinished(() => client.endAsync(true));
  return client;
}

export function statusPayload(deviceId: string, status: StatusProps): Uint8Array {
  return encodeEnvelope({ deviceId, status });
}

export async function publishStatus(client: MqttClient, deviceId: string, status: StatusProps = {}): Promise<void> {
  await client.publishAsync(
    deviceTopic(deviceId, 'status'),
    Buffer.from(statusPayload(deviceId, { state: DeviceState.DEVICE_STATE_ONLINE, agentVersion: 'test/1.0', ...status })),
    { qos: 1, retain: true },
  );
}

export async function publishTelemetry(client: MqttClient, deviceId: string, telemetry: TelemetryProps): Promise<void> {
  await client.publishAsync(deviceTopic(deviceId, 'telemetry'), Buffer.from(encodeEnvelope({ deviceId, telemetry })), { qos: 1 });
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Tries to connect and resolves to the CONNACK error (or undefined when the connection was accepted). */
export async function connectError(url: string, options: IClientOptions): Promise<{ code?: number; message: string } | undefined> {
  try {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    await client.endAsync(true);
    return undefined;
  } catch (error) {
    return { code: (error as { code?: number }).code, message: (error as Error).message };
  }
}

/** SUBACK return code for one subscription: the granted QoS, or 0x80 (128) when refused. */
export async function subackCode(client: MqttClient, topic: string): Promise<number> {
  try {
    const [granted] = await client.subscribeAsync(topic, { qos: 1 });
    return granted!.qos;
  } catch (error) {
    const granted = (error as { packet?: { granted?: number[] } }).packet?.granted;
    if (granted?.length === 1) return granted[0]!;
    throw error;
  }
}
