/**
 * `invert` drift on a simulated device against a real hub: its served inputs leave the training baseline (PSI large,
 * in its telemetry and in the hub's quality view) and its labelled accuracy drops, while an undrifted device on the
 * same version stays close to its baseline.
 */
import { describe, expect, it } from 'vitest';
import { DeployPhase, type InputHistogramProps, type TelemetryProps } from '@fedfleet/proto';
import { psi } from '../../hub/src/quality/drift-measures.js';
import type { DeviceQualityJson } from '../../hub/src/quality/quality.js';
import { waitFor } from '../../hub/test/helpers/devices.js';
import { SIM_PROFILES } from '../src/index.js';
import { deployCommand, report, send, servingHub, startFleet, type ServingHub } from './sim-serving-helpers.js';

const counts = (h: InputHistogramProps | null | undefined) => (h?.counts ?? []).map(Number);

function telemetryWith(hub: ServingHub, deviceId: string, inferences: number): Promise<TelemetryProps> {
  return waitFor(() => hub.telemetry.find((t) => t.deviceId === deviceId && Number(t.telemetry.inferenceCount ?? 0) >= inferences)?.telemetry,
    20_000, `telemetry of ${deviceId} with ${inferences} inferences`);
}

describe('simulated data drift', () => {
  it('invert moves input_stats away from input_baseline and drops accuracy; an undrifted device stays put', async () => {
    const hub = await servingHub(1);
    const v2 = hub.versions[1]!;
    const fleet = await startFleet(hub.testHub, SIM_PROFILES['rpi4']!, 2, { inferencesPerHeartbeat: 100 });
    const [drifted, steady] = fleet.devices.map((d) => d.agent.deviceId!) as [string, string];
    fleet.setDrift([fleet.devices[0]!.name], 'invert');
    expect(fleet.driftOf(0)?.spec).toBe('invert');
    expect(fleet.driftOf(1)).toBeUndefined();
    const bundle = await hub.testHub.hub.bundles.build(v2, { format: 'tflite', encoding: 'int8' });
    for (const deviceId of [drifted, steady]) await send(hub, deviceId, deployCommand('deploy', bundle));
    for (const deviceId of [drifted, steady]) await report(hub, deviceId, 'deploy', DeployPhase.DEPLOY_PHASE_ACTIVATED);

    const [d, s] = await Promise.all([telemetryWith(hub, drifted, 300), telemetryWith(hub, steady, 300)]);
    for (const t of [d, s]) {
      expect(t.inputBaseline).toMatchObject({ lo: 0, hi: 1 });
      expect(counts(t.inputStats)).toHaveLength(16);
      expect(Number(t.inputStats!.examples)).toBeGreaterThanOrEqual(200);
      expect(t.localAccuracyExamples).toBeGreaterThanOrEqual(200);
    }
    const driftedPsi = psi(counts(d.inputStats), counts(d.inputBaseline));
    const steadyPsi = psi(counts(s.inputStats), counts(s.inputBaseline));
    expect(driftedPsi).toBeGreaterThan(1);
    expect(steadyPsi).toBeLessThan(0.05);
    expect(s.localAccuracy).toBeGreaterThan(0.6);
    expect(d.localAccuracy).toBeLessThan(s.localAccuracy! - 0.3);

    // The hub measured the same from the same telemetry.
    const shown = await waitFor(async () => {
      const body = (await hub.testHub.api<DeviceQualityJson>('GET', `/v1/devices/${drifted}/quality`)).body;
      return body.inputDrift ? body : undefined;
    }, 10_000, 'input drift of the drifted device');
    expect(shown.inputDrift!.psi).toBeGreaterThan(1);
  });
});
