import { describe, expect, it } from 'vitest';
import { MAX_DEVICE_STRING_CHARS, deviceTopic, encodeEnvelope } from '@fedfleet/proto';
import type { DeviceJson } from '../src/fleet/schemas.js';
import { connectDevice, enrollDevice, publishStatus, publishTelemetry, waitFor } from './helpers/devices.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

async function metrics(testHub: TestHub): Promise<string> {
  return (await testHub.hub.inject({ method: 'GET', url: '/metrics' })).body;
}

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('bad device payloads', () => {
  it('counts malformed, oversize and misplaced payloads per code and keeps serving', async () => {
    const testHub = await startTestHub({ config: { maxPayloadBytes: 64 * 1024 } });
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    await publishStatus(client, device.deviceId);
    const topic = deviceTopic(device.deviceId, 'telemetry');

    await client.publishAsync(topic, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), { qos: 1 }); // not protobuf
    await client.publishAsync(topic, Buffer.alloc(64 * 1024 + 1, 1), { qos: 1 }); // over maxPayloadBytes
    await client.publishAsync(topic, Buffer.from(encodeEnvelope({ deviceId: device.deviceId, status: { state: 1 } })), { qos: 1 }); // status body on telemetry
    await client.publishAsync(topic, Buffer.from(encodeEnvelope({ deviceId: 'dev-someone-else', telemetry: { cpuPercent: 1 } })), { qos: 1 });
    await client.publishAsync(topic, Buffer.alloc(0), { qos: 1 }); // no body at all

    const text = await waitFor(async () => {
      const current = await metrics(testHub);
      return value(current, 'fedfleet_mqtt_rejected_payloads_total{code="PROTO_ERR_EMPTY_BODY"}') >= 1 ? current : undefined;
    });
    expect(value(text, 'fedfleet_mqtt_rejected_payloads_total{code="PROTO_ERR_MALFORMED"}')).toBe(1);
    expect(value(text, 'fedfleet_mqtt_rejected_payloads_total{code="PROTO_ERR_TOO_LARGE"}')).toBe(1);
    expect(value(text, 'fedfleet_mqtt_rejected_payloads_total{code="PROTO_ERR_WRONG_BODY"}')).toBe(1);
    expect(value(text, 'fedfleet_mqtt_rejected_payloads_total{code="PROTO_ERR_DEVICE_MISMATCH"}')).toBe(1);

    // The session survived and the hub still processes good messages.
    expect(client.connected).toBe(true);
    await publishTelemetry(client, device.deviceId, { cpuPercent: 12 });
    const shown = await waitFor(async () => (await testHub.api<DeviceJson>('GET', `/v1/devices/${device.deviceId}`)).body.telemetry);
    expect(shown.cpuPercent).toBe(12);
    const after = await metrics(testHub);
    expect(value(after, 'fedfleet_mqtt_messages_total{kind="telemetry"}')).toBe(1);
    expect(value(after, 'fedfleet_mqtt_messages_total{kind="status"}')).toBe(1);
    expect(value(after, 'fedfleet_devices_online')).toBe(1);
  });

  it('refuses text longer than MAX_DEVICE_STRING_CHARS in any field and keeps what the device said before', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    await publishStatus(client, device.deviceId, { agentVersion: 'agent/1.0' });
    await waitFor(async () => (await testHub.api<DeviceJson>('GET', `/v1/devices/${device.deviceId}`)).body.agentVersion === 'agent/1.0' || undefined);

    // A megabyte-long version would be in every listing of the fleet from then on.
    await publishStatus(client, device.deviceId, { agentVersion: 'v'.repeat(MAX_DEVICE_STRING_CHARS + 1) });
    await publishStatus(client, device.deviceId, { agentVersion: 'agent/1.0', profile: { kind: 'k'.repeat(1024 * 1024) } });
    const text = await waitFor(async () => {
      const current = await metrics(testHub);
      return value(current, 'fedfleet_mqtt_rejected_payloads_total{code="PROTO_ERR_STRING_TOO_LONG"}') >= 2 ? current : undefined;
    });
    expect(value(text, 'fedfleet_mqtt_rejected_payloads_total{code="PROTO_ERR_STRING_TOO_LONG"}')).toBe(2);
    const shown = (await testHub.api<DeviceJson>('GET', `/v1/devices/${device.deviceId}`)).body;
    expect(shown.agentVersion).toBe('agent/1.0');
    expect(client.connected).toBe(true);
  });

  it('logs each rejection with the device id and code', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const { createLogger } = await import('../src/logger.js');
    const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const testHub = await startTestHub({ logger });
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    await client.publishAsync(deviceTopic(device.deviceId, 'telemetry'), Buffer.from('garbage!'), { qos: 1 });
    const line = await waitFor(() => lines.find((l) => l.msg === 'device payload rejected'));
    expect(line).toMatchObject({ deviceId: device.deviceId, code: 'PROTO_ERR_MALFORMED' });
  });

  it('drops a redelivered msgId (QoS 1 duplicate) once', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    const seen: number[] = [];
    testHub.hub.events.on('telemetry', (event) => seen.push(event.telemetry.cpuPercent ?? -1));
    const payload = Buffer.from(encodeEnvelope({ msgId: 'm-1', deviceId: device.deviceId, telemetry: { cpuPercent: 5 } }));
    const topic = deviceTopic(device.deviceId, 'telemetry');
    await client.publishAsync(topic, payload, { qos: 1 });
    await client.publishAsync(topic, payload, { qos: 1, dup: true });
    await publishTelemetry(client, device.deviceId, { cpuPercent: 6 });
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([5, 6]);
    expect(value(await metrics(testHub), 'fedfleet_mqtt_duplicate_messages_total{kind="telemetry"}')).toBe(1);
  });
});
