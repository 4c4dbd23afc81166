import { describe, expect, it } from 'vitest';
import { deviceTopic, encodeEnvelope, type TelemetryProps } from '@fedfleet/proto';
import { createManualClock } from '../../src/clock.js';
import type { HubEventMap } from '../../src/events/hub-events.js';
import type { DeviceQualityJson } from '../../src/quality/quality.js';
import '../../src/quality/quality-events.js';
import { psi } from '../../src/quality/drift-measures.js';
import { startRoundHub, waitFor, type RawDevice } from '../rounds/round-helpers.js';

const BASELINE = { lo: 0, hi: 1, counts: [40, 10, 10, 40], examples: 300 };
// Inverted inputs: the mass moves to the other end.
const SHIFTED = { lo: 0, hi: 1, counts: [10, 40, 40, 10], examples: 250 };

async function sendTelemetry(device: RawDevice, telemetry: TelemetryProps): Promise<void> {
  const bytes = encodeEnvelope({ deviceId: device.deviceId, telemetry: { heartbeatSec: 10, ...telemetry } });
  await device.client!.publishAsync(deviceTopic(device.deviceId, 'telemetry'), Buffer.from(bytes), { qos: 1 });
}

describe('per-device quality from scripted telemetry', () => {
  it('records feedback windows with a baseline, measures input drift, rate-limits both and serves them', async () => {
    const clock = createManualClock();
    const { testHub, api, model, enroll } = await startRoundHub({ clock });
    const quality: HubEventMap['device.quality'][] = [];
    const drift: HubEventMap['device.input-drift'][] = [];
    testHub.hub.events.on('device.quality', (e) => quality.push(e));
    testHub.hub.events.on('device.input-drift', (e) => drift.push(e));
    const device = await enroll('q-1');
    const base = { activeVersionId: model.versionId, inputBaseline: BASELINE };

    // Too few labels for a sample, too few inputs for a drift measure: nothing.
    await sendTelemetry(device, { ...base, localAccuracy: 0.99, localAccuracyExamples: 49, inputStats: { ...SHIFTED, examples: 199 } });
    await sendTelemetry(device, { ...base, localAccuracy: 0.9, localAccuracyExamples: 200, inputStats: SHIFTED });
    await waitFor(() => quality.length === 1 && drift.length === 1, 5000, 'first sample and drift');
    expect(quality[0]).toMatchObject({
      deviceId: device.deviceId, modelId: model.modelId, versionId: model.versionId, source: 'feedback', accuracy: 0.9, examples: 200, baseline: 0.9,
    });
    expect(drift[0]).toMatchObject({ deviceId: device.deviceId, examples: 250, baselineExamples: 300 });
    expect(drift[0]!.psi).toBeCloseTo(psi(SHIFTED.counts, BASELINE.counts), 12);
    expect(drift[0]!.ks).toBeCloseTo(0.3, 12);

    // Within the interval (60 s by default): neither is recorded again.
    await sendTelemetry(device, { ...base, localAccuracy: 0.5, localAccuracyExamples: 200, inputStats: SHIFTED });
    clock.advance(60_000);
    // Bins that differ from the baseline's are not comparable: no drift measure.
    await sendTelemetry(device, { ...base, localAccuracy: 0.5, localAccuracyExamples: 200, inputStats: { ...SHIFTED, hi: 2 } });
    await waitFor(() => quality.length === 2, 5000, 'second sample');
    expect(quality[1]).toMatchObject({ accuracy: 0.5, baseline: 0.7 });
    clock.advance(60_000);
    await sendTelemetry(device, { ...base, inputStats: BASELINE });
    await waitFor(() => drift.length === 2, 5000, 'second drift');
    expect(drift[1]!.psi).toBeCloseTo(0, 12);
    expect(quality).toHaveLength(2);

    const shown = await api<DeviceQualityJson>('GET', `/v1/devices/${device.deviceId}/quality`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      deviceId: device.deviceId,
      versions: [{
        modelId: model.modelId, versionId: model.versionId, version: 1,
        baseline: { accuracy: 0.7, source: 'feedback' },
        samples: [{ source: 'feedback', accuracy: 0.9, examples: 200 }, { source: 'feedback', accuracy: 0.5, examples: 200 }],
      }],
      inputDrift: { ks: 0, examples: 300, baselineExamples: 300, at: new Date(clock.now()).toISOString() },
    });
    expect((await api('GET', '/v1/devices/dev-unknown/quality')).status).toBe(404);
  });
});
