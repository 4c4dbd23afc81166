import { describe, expect, it } from 'vitest';
import { encodeEnvelope } from '@fedfleet/proto';
import { createRouter, type DeviceMessage } from '../src/broker/router.js';
import { createManualClock } from '../src/clock.js';
import { createLogger } from '../src/logger.js';
import { createHubMetrics } from '../src/metrics/hub-metrics.js';

function setup() {
  const clock = createManualClock();
  const metrics = createHubMetrics();
  const router = createRouter({ maxPayloadBytes: 1024, clock, log: createLogger('silent'), metrics, dedupeWindowMs: 60_000, dedupePerDeviceMaxEntries: 3 });
  return { clock, metrics, router };
}

const raw = (topic: string, payload: Uint8Array) => ({ topic, payload, sessionId: 1, retained: false, viaWill: false });

describe('router', () => {
  it('dispatches by topic kind, after the every-message handlers, in registration order', async () => {
    const { router } = setup();
    const calls: string[] = [];
    router.onEvery((m) => void calls.push(`every:${m.kind}`));
    router.on('telemetry', (m) => void calls.push(`t1:${m.envelope.telemetry?.cpuPercent}`));
    const off = router.on('telemetry', async () => void calls.push('t2'));
    router.on('status', () => void calls.push('status'));
    await router.dispatch(raw('ff/v1/dev/d1/telemetry', encodeEnvelope({ deviceId: 'd1', telemetry: { cpuPercent: 3 } })));
    off();
    await router.dispatch(raw('ff/v1/dev/d1/telemetry', encodeEnvelope({ deviceId: 'd1', telemetry: { cpuPercent: 4 } })));
    expect(calls).toEqual(['every:telemetry', 't1:3', 't2', 'every:telemetry', 't1:4']);
  });

  it('keeps going when a handler throws, and counts it', async () => {
    const { router, metrics } = setup();
    const seen: DeviceMessage[] = [];
    router.on('reply', () => {
      throw new Error('boom');
    });
    router.on('reply', async () => {
      throw new Error('async boom');
    });
    router.on('reply', (m) => void seen.push(m));
    await router.dispatch(raw('ff/v1/dev/d1/reply', encodeEnvelope({ deviceId: 'd1', commandResult: { commandId: 'c' } })));
    expect(seen).toHaveLength(1);
    expect(metrics.handlerErrors.get({ kind: 'reply' })).toBe(2);
  });

  it('rejects bad topics and payloads by code without calling handlers', async () => {
    const { router, metrics } = setup();
    let calls = 0;
    router.onEvery(() => void calls++);
    await router.dispatch(raw('ff/v1/dev/d1/nonsense', encodeEnvelope({ deviceId: 'd1', telemetry: {} })));
    await router.dispatch(raw('ff/v1/dev/d1/telemetry', new Uint8Array(2000)));
    await router.dispatch(raw('ff/v1/dev/d1/update', encodeEnvelope({ deviceId: 'd1', telemetry: {} })));
    expect(calls).toBe(0);
    expect(metrics.mqttRejected.get({ code: 'PROTO_ERR_BAD_TOPIC' })).toBe(1);
    expect(metrics.mqttRejected.get({ code: 'PROTO_ERR_TOO_LARGE' })).toBe(1);
    expect(metrics.mqttRejected.get({ code: 'PROTO_ERR_WRONG_BODY' })).toBe(1);
  });

  it('ignores an empty retained status (a retained-message delete)', async () => {
    const { router, metrics } = setup();
    await router.dispatch({ ...raw('ff/v1/dev/d1/status', new Uint8Array(0)), retained: true });
    expect(await metrics.registry.render()).not.toContain('PROTO_ERR');
  });

  it('drops a msgId seen within the window, per device', async () => {
    const { router, clock, metrics } = setup();
    const got: string[] = [];
    router.on('telemetry', (m) => void got.push(`${m.deviceId}/${m.envelope.msgId}`));
    const send = (device: string, msgId: string) =>
      router.dispatch(raw(`ff/v1/dev/${device}/telemetry`, encodeEnvelope({ msgId, deviceId: device, telemetry: {} })));
    await send('d1', 'm1');
    await send('d1', 'm1');
    await send('d2', 'm1');
    clock.advance(61_000);
    await send('d1', 'm1');
    expect(got).toEqual(['d1/m1', 'd2/m1', 'd1/m1']);
    expect(metrics.mqttDuplicates.get({ kind: 'telemetry' })).toBe(1);
  });

  it('still drops a redelivery of one device while another floods it (per-device bound)', async () => {
    const { router, metrics } = setup(); // 3 msgIds per device at least
    let handled = 0;
    router.on('reply', () => void handled++);
    const send = (device: string, msgId: string) =>
      router.dispatch(raw(`ff/v1/dev/${device}/reply`, encodeEnvelope({ msgId, deviceId: device, commandResult: { commandId: 'c' } })));
    await send('d2', 'r1');
    for (let i = 0; i < 20; i++) await send('d1', `flood-${i}`);
    await send('d2', 'r1');
    expect(handled).toBe(21);
    expect(metrics.mqttDuplicates.get({ kind: 'reply' })).toBe(1);
  });
});
