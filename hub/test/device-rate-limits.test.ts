/**
 * Per-device message limits (issue 7, defect 6, MQTT part): a flooding device gets its burst stored and no more,
 * the rest is counted by kind and warned about once per interval, and what it can write to the database is bounded
 * for every kind (telemetry rows, rejected-update rows). Manual clock: buckets refill only when the test says so.
 */
import { describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { DeviceState, deviceTopic, encodeEnvelope } from '@fedfleet/proto';
import { DEFAULT_DEVICE_RATE_LIMITS } from '../src/broker/device-rate-limiter.js';
import { createManualClock } from '../src/clock.js';
import { createLogger } from '../src/logger.js';
import { connectDevice, enrollDevice, publishStatus, waitFor } from './helpers/devices.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

async function flood(client: MqttClient, topic: string, count: number, payload: (i: number) => Uint8Array): Promise<void> {
  await Promise.all(Array.from({ length: count }, (_, i) => client.publishAsync(topic, Buffer.from(payload(i)), { qos: 1 })));
}

async function storedTelemetry(testHub: TestHub, deviceId: string): Promise<number> {
  const response = await testHub.api<{ points: unknown[] }>('GET', `/v1/devices/${deviceId}/telemetry?metric=cpuPercent`);
  return response.body.points.length;
}

const dropped = (testHub: TestHub, kind: string, limit = 'messages') => testHub.hub.metrics.mqttRateLimited.get({ kind, limit });

describe('per-device rate limits', () => {
  it('stores at most the burst of a telemetry flood, counts the rest and warns once per interval', async () => {
    const clock = createManualClock();
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const testHub = await startTestHub({ clock, logger });
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    const topic = deviceTopic(device.deviceId, 'telemetry');
    const telemetry = (i: number) => encodeEnvelope({ deviceId: device.deviceId, telemetry: { cpuPercent: i % 100 } });
    const { burst, perSec } = DEFAULT_DEVICE_RATE_LIMITS.telemetry;

    await flood(client, topic, 2000, telemetry);
    expect(await storedTelemetry(testHub, device.deviceId)).toBe(burst);
    expect(testHub.hub.metrics.mqttMessages.get({ kind: 'telemetry' })).toBe(burst);
    expect(dropped(testHub, 'telemetry')).toBe(2000 - burst);
    const warnings = () => lines.filter((l) => l.msg === 'device messages dropped by rate limit');
    expect(warnings()).toEqual([expect.objectContaining({ deviceId: device.deviceId, kind: 'telemetry', limit: 'messages', dropped: 1 })]);

    // A second later the bucket holds perSec tokens again; ten seconds later the next warning sums up the drops.
    clock.advance(1000);
    await flood(client, topic, 10, telemetry);
    expect(await storedTelemetry(testHub, device.deviceId)).toBe(burst + perSec);
    clock.advance(10_000);
    await flood(client, topic, 100, telemetry);
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]).toMatchObject({ dropped: 2000 - burst - 1 + (10 - perSec) + 1 });
    expect(client.connected).toBe(true);
  });

  it('bounds the rejected-update rows a flood of bad updates writes', async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({ clock });
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    const update = () => encodeEnvelope({ deviceId: device.deviceId, weightUpdate: { roundId: 'no-such-round', exampleCount: 1 } });
    await flood(client, deviceTopic(device.deviceId, 'update'), 2000, update);

    const { burst } = DEFAULT_DEVICE_RATE_LIMITS.update;
    const rejections = (await testHub.api<Array<{ deviceId: string; code: string; count: number }>>('GET', '/v1/update-rejections')).body;
    expect(rejections).toEqual([{ deviceId: device.deviceId, code: 'HUB_ERR_UPDATE_UNKNOWN_ROUND', count: burst }]);
    expect(dropped(testHub, 'update')).toBe(2000 - burst);
  });

  it('takes deviceRateLimits per kind and deviceBytesPerSec from the configuration', async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({
      clock,
      config: { deviceRateLimits: { telemetry: { perSec: 1, burst: 5 } }, deviceBytesPerSec: 1024, maxPayloadBytes: 16 * 1024 },
    });
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    await flood(client, deviceTopic(device.deviceId, 'telemetry'), 10, () => encodeEnvelope({ deviceId: device.deviceId, telemetry: { cpuPercent: 1 } }));
    expect(await storedTelemetry(testHub, device.deviceId)).toBe(5);

    // Bytes: the burst is 4 × maxPayloadBytes = 64 KiB; 10 KB junk replies pass it six times (and are then rejected
    // as malformed), the other four are dropped before decoding.
    await flood(client, deviceTopic(device.deviceId, 'reply'), 10, () => Buffer.alloc(10_000, 0xff));
    expect(testHub.hub.metrics.mqttRejected.get({ code: 'PROTO_ERR_MALFORMED' })).toBe(6);
    expect(dropped(testHub, 'reply', 'bytes')).toBe(4);
  });

  it('never drops a last will for rate: the hub still learns the device went offline', async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({ clock });
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    const { burst } = DEFAULT_DEVICE_RATE_LIMITS.status;
    for (let i = 0; i <= burst; i++) await publishStatus(client, device.deviceId, { state: DeviceState.DEVICE_STATE_ONLINE });
    expect(dropped(testHub, 'status')).toBe(1);
    client.stream.destroy(); // no DISCONNECT: the broker publishes the OFFLINE will
    await waitFor(() => testHub.hub.metrics.mqttMessages.get({ kind: 'status' }) === burst + 1, 5000, 'will handled');
    expect(dropped(testHub, 'status')).toBe(1);
  });
});
