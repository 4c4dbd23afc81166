/**
 * Simulated devices install and serve model bundles (issue 10 items 2, 3 and 5) against a real hub, with DeployModel
 * and RollbackModel sent straight through the hub's commands capability (no rollout engine): an int8 .tflite version
 * serves on an mcu-m4 and an rpi4, its self-test and telemetry on the devices' own held-out digits, the MCU's
 * latency being the resource model's estimate; a rollback puts the previous version back; a shadow run counts
 * agreement and both accuracies; an MCU refuses a float bundle and one that does not fit, with the reason.
 */
import { describe, expect, it } from 'vitest';
import { DeployMode, DeployPhase, ResultCode, type McuFit } from '@fedfleet/proto';
import { SIM_PROFILES, type SimFleet } from '../src/index.js';
import { waitFor } from '../../hub/test/helpers/devices.js';
import {
  deployCommand, deviceView, finalResult, report, rollbackCommand, send, servingHub, startFleet, type ServingHub,
} from './sim-serving-helpers.js';

const INT8 = { format: 'tflite', encoding: 'int8' } as const;
const idOf = (fleet: SimFleet) => fleet.devices[0]!.agent.deviceId!;

/** The first telemetry of `deviceId` that counts at least `count` inferences. */
function telemetryWith(hub: ServingHub, deviceId: string, count: number) {
  return waitFor(() => hub.telemetry.find((t) => t.deviceId === deviceId && Number(t.telemetry.inferenceCount ?? 0) >= count)?.telemetry, 15_000, `telemetry of ${deviceId} with ${count} inferences`);
}

describe('simulated devices serve model bundles', () => {
  it('an int8 version serves on mcu-m4 and rpi4 (self-test, Status, telemetry), a rollback restores the previous one, a shadow run counts agreement', async () => {
    const hub = await servingHub(2);
    const [, v2, v3] = hub.versions as [string, string, string];
    const mcu = await startFleet(hub.testHub, SIM_PROFILES['mcu-m4']!, 1);
    const pi = await startFleet(hub.testHub, SIM_PROFILES['rpi4']!, 1);
    const fits: McuFit[] = [];
    mcu.on('servingFit', ({ fit }) => fits.push(fit));
    const devices = [idOf(mcu), idOf(pi)];
    const bundle2 = await hub.testHub.hub.bundles.build(v2, INT8);
    const bundle3 = await hub.testHub.hub.bundles.build(v3, INT8);

    // 1. Install on devices that serve nothing yet: a self-test on 256 held-out digits, no baseline.
    for (const deviceId of devices) await send(hub, deviceId, deployCommand('deploy-v2', bundle2));
    for (const deviceId of devices) {
      const activated = await report(hub, deviceId, 'deploy-v2', DeployPhase.DEPLOY_PHASE_ACTIVATED);
      expect(activated).toMatchObject({ versionId: v2, activeVersionId: v2, selfTest: { examples: 256 } });
      expect(activated.selfTest!.accuracy).toBeGreaterThan(0.6);
      expect(activated.baseline).toBeFalsy();
      expect(await finalResult(hub, deviceId, 'deploy-v2')).toMatchObject({ code: ResultCode.RESULT_CODE_DONE });
      await waitFor(async () => (await deviceView(hub, deviceId)).activeVersionId === v2, 10_000, `Status of ${deviceId} on v2`);
      expect((await deviceView(hub, deviceId)).activeSha256).toBe(bundle2.manifest.payload.sha256);
    }
    // The MCU judged the graph it received and times each inference at the estimate (the host is not an MCU).
    expect(fits).toEqual([expect.objectContaining({ profile: 'mcu-m4', fits: true, macs: 784 * 200 + 200 * 200 + 200 * 10 })]);
    const mcuReport = await report(hub, devices[0]!, 'deploy-v2', DeployPhase.DEPLOY_PHASE_ACTIVATED);
    expect(mcuReport.selfTest!.p50Ms).toBeGreaterThanOrEqual(Math.fround(fits[0]!.estLatencyMs));

    // 2. Simulated traffic on the devices' own digits, with feedback: counts, latency and accuracy in telemetry.
    for (const deviceId of devices) {
      // The first heartbeat that served: the device's first 20 held-out digits.
      const telemetry = await telemetryWith(hub, deviceId, 20);
      expect(telemetry).toMatchObject({ activeVersionId: v2 });
      expect(telemetry.localAccuracy).toBeGreaterThan(0.6);
      expect(telemetry.inferenceP95Ms).toBeGreaterThanOrEqual(telemetry.inferenceP50Ms!);
    }
    expect((await telemetryWith(hub, devices[0]!, 20)).inferenceP50Ms).toBeGreaterThanOrEqual(fits[0]!.estLatencyMs);

    // 3. The next version: its self-test beside the baseline of v2 on the same examples; v2 kept as previous.
    for (const deviceId of devices) await send(hub, deviceId, deployCommand('deploy-v3', bundle3));
    for (const deviceId of devices) {
      const activated = await report(hub, deviceId, 'deploy-v3', DeployPhase.DEPLOY_PHASE_ACTIVATED);
      expect(activated).toMatchObject({ versionId: v3, activeVersionId: v3, previousVersionId: v2, selfTest: { examples: 256 }, baseline: { examples: 256 } });
      await waitFor(async () => (await deviceView(hub, deviceId)).activeVersionId === v3, 10_000, `Status of ${deviceId} on v3`);
    }

    // 4. RollbackModel puts v2 back.
    for (const deviceId of devices) await send(hub, deviceId, rollbackCommand('rollback-v3', v3));
    for (const deviceId of devices) {
      expect(await report(hub, deviceId, 'rollback-v3', DeployPhase.DEPLOY_PHASE_ROLLED_BACK)).toMatchObject({ activeVersionId: v2 });
      expect(await finalResult(hub, deviceId, 'rollback-v3')).toMatchObject({ code: ResultCode.RESULT_CODE_DONE });
      await waitFor(async () => (await deviceView(hub, deviceId)).activeVersionId === v2, 10_000, `Status of ${deviceId} back on v2`);
    }

    // 5. v3 in shadow: v2 still serves; the heartbeat's SHADOWING reports count both versions on the same inputs.
    for (const deviceId of devices) await send(hub, deviceId, deployCommand('shadow-v3', bundle3, DeployMode.DEPLOY_MODE_SHADOW));
    for (const deviceId of devices) {
      await report(hub, deviceId, 'shadow-v3', DeployPhase.DEPLOY_PHASE_SHADOWING);
      const counted = await report(hub, deviceId, 'shadow-v3', DeployPhase.DEPLOY_PHASE_SHADOWING, (r) => Number(r.shadow?.labelled ?? 0) >= 40);
      expect(counted).toMatchObject({ activeVersionId: v2 });
      const shadow = counted.shadow!;
      expect(Number(shadow.inferences)).toBe(Number(shadow.labelled));
      // v2 and v3 are right on 74 % and 87.5 % of the self-test digits, so both on at least 61 % of them: on any 40
      // of the device's digits (where the traffic stands depends on timing) well above a third, far above chance.
      expect(Number(shadow.agreements)).toBeGreaterThan(Number(shadow.inferences) / 3);
      expect(Number(shadow.championCorrect)).toBeGreaterThan(Number(shadow.labelled) / 3);
      expect(Number(shadow.challengerCorrect)).toBeGreaterThan(Number(shadow.labelled) / 3);
      expect(await deviceView(hub, deviceId)).toMatchObject({ activeVersionId: v2 });
    }
  }, 120_000);

  it('an MCU refuses a float bundle and one that does not fit, with the reason, and keeps serving; a Pi serves the float one', async () => {
    const hub = await servingHub(1);
    const v2 = hub.versions[1]!;
    const mcu = await startFleet(hub.testHub, SIM_PROFILES['mcu-m4']!, 1);
    // An mcu-m4 with 1 KiB of RAM: the 2NN's tensor arena does not fit.
    const small = await startFleet(hub.testHub, { ...SIM_PROFILES['mcu-m4']!, ramBytes: 1024 }, 1, { namePrefix: 'mcu-small' });
    const pi = await startFleet(hub.testHub, SIM_PROFILES['rpi4']!, 1);
    const int8 = await hub.testHub.hub.bundles.build(v2, INT8);
    const float = await hub.testHub.hub.bundles.build(v2, { format: 'tfjs-layers', encoding: 'fp32' });

    await send(hub, idOf(mcu), deployCommand('deploy-int8', int8));
    await report(hub, idOf(mcu), 'deploy-int8', DeployPhase.DEPLOY_PHASE_ACTIVATED);
    await send(hub, idOf(mcu), deployCommand('deploy-float', float));
    const refused = await finalResult(hub, idOf(mcu), 'deploy-float');
    expect(refused).toMatchObject({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: expect.stringMatching(/^AGENT_ERR_/) });
    expect(refused.reason).toContain('float model on an int8-only device');
    expect(await report(hub, idOf(mcu), 'deploy-float', DeployPhase.DEPLOY_PHASE_FAILED)).toMatchObject({ errorCode: refused.errorCode, activeVersionId: v2 });

    await send(hub, idOf(small), deployCommand('deploy-int8', int8));
    const tooBig = await finalResult(hub, idOf(small), 'deploy-int8');
    expect(tooBig.code).toBe(ResultCode.RESULT_CODE_REFUSED);
    expect(tooBig.reason).toMatch(/needs [\d.]+ KiB \(\d+ bytes\) RAM, device has 1 KiB \(1024 bytes\)/);
    expect(await deviceView(hub, idOf(small))).toMatchObject({ activeVersionId: null });

    await send(hub, idOf(pi), deployCommand('deploy-float', float));
    expect(await report(hub, idOf(pi), 'deploy-float', DeployPhase.DEPLOY_PHASE_ACTIVATED)).toMatchObject({ activeVersionId: v2 });
    expect((await telemetryWith(hub, idOf(pi), 20)).localAccuracy).toBeGreaterThan(0.6);
  }, 120_000);
});
