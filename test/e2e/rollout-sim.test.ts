/**
 * Issue 10 acceptance, end to end: rollouts through the hub's API to real simulated devices (firmware-sim SimFleet:
 * Raspberry Pi 4 and Cortex-M4 profiles with MNIST digits, each with its own model store, integer-only int8 kernels
 * and self-tests on its own held-out digits). A better version completes wave by wave; a version worse on some
 * second-wave devices' digits fails their health gate and the abort puts every changed device back; a download cut
 * by a dropped connection resumes without fetching again the chunks the device has; a device offline when its wave
 * starts catches up when it returns.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { SIM_PROFILES } from '@fedfleet/firmware-sim';
import { targetOf, waitForRollout } from '../../hub/test/helpers/rollout-devices.js';
import {
  MODEL, addTrainedVersion, quantizeVersion, servingHub, startFleet,
} from '../../firmware-sim/test/sim-serving-helpers.js';
import { recordHubEvents, waitFor, type HubEventLog } from './helpers/agent-harness.js';
import {
  ACCURACY_ONLY_GATE, ROLLOUT_TIMEOUT_MS, completed, devicesById, enrollAhead, idsOf, int8Rollout, rollOut, settled,
} from './helpers/rollout-sim.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

const PI = SIM_PROFILES['rpi4']!;
const MCU = SIM_PROFILES['mcu-m4']!;
/** Every version's self-test runs on at most this many held-out digits (the store's default: deploys do not say). */
const SELF_TEST_EXAMPLES = 256;
const pts = (fraction: number) => Math.round(fraction * 10_000) / 100;
/** Digits a version of the gate test has barely seen, the devices that hold only them, and the devices that hold the rest. */
const FAULT_DIGITS = [7, 8, 9];
const FAULT_DATA = `mnist:labels:${FAULT_DIGITS.join(',')}`;
const OTHER_DATA = 'mnist:labels:0,1,2,3,4,5,6';

/** The rollout's events in the order the hub emitted them, as `wave:state` for waves and `device:state` for targets. */
function rolloutSteps(log: HubEventLog, rolloutId: string): string[] {
  const steps: string[] = [];
  for (const { name, payload } of log.events) {
    const p = payload as { rolloutId?: string; wave?: number; state?: string; deviceId?: string };
    if (p.rolloutId !== rolloutId) continue;
    if (name === 'rollout.wave') steps.push(`wave ${p.wave}:${p.state}`);
    else if (name === 'rollout.target') steps.push(`${p.deviceId}:${p.state}`);
    else if (name === 'rollout.state') steps.push(`rollout:${p.state}`);
  }
  return steps;
}

describe('rollouts over simulated devices', () => {
  it('an int8 rollout of a better version completes wave by wave; every device serves it, each self-test beside its baseline', async () => {
    const hub = await servingHub(2);
    const { testHub } = hub;
    const [, v2, v3] = hub.versions as [string, string, string];
    const pis = await startFleet(testHub, PI, 3);
    const mcus = await startFleet(testHub, MCU, 2);
    const mcuIds = new Set(idsOf(mcus));
    const estimatesMs = new Set<number>();
    mcus.on('servingFit', ({ fit }) => void estimatesMs.add(Math.fround(fit.estLatencyMs)));
    await rollOut(testHub, int8Rollout(2, { waves: [{ percent: 100 }] }), completed, 'every device on version 2');

    const events = recordHubEvents(testHub);
    const done = await rollOut(testHub, int8Rollout(3, { waves: [{ devices: 1 }, { devices: 3 }, { percent: 100 }] }), completed, 'version 3 rolled out');
    expect(done.waves.map((w) => ({ size: w.size, state: w.state, healthy: w.healthy, failed: w.failed }))).toEqual([
      { size: 1, state: 'passed', healthy: 1, failed: 0 },
      { size: 2, state: 'passed', healthy: 2, failed: 0 },
      { size: 2, state: 'passed', healthy: 2, failed: 0 },
    ]);

    // Wave k + 1 starts only once wave k passed, and each device leaves `pending` only in its own wave.
    const steps = rolloutSteps(events, done.id);
    const waveSteps = steps.filter((s) => s.startsWith('wave '));
    expect(waveSteps.filter((s) => s.endsWith(':passed'))).toEqual(['wave 1:passed', 'wave 2:passed', 'wave 3:passed']);
    for (const target of done.targets) {
      const started = steps.indexOf(`wave ${target.wave}:deploying`);
      const passed = steps.indexOf(`wave ${target.wave}:passed`);
      const moves = steps.flatMap((s, i) => (s.startsWith(`${target.deviceId}:`) ? [i] : []));
      expect(moves.length, target.deviceName!).toBeGreaterThan(0);
      expect(Math.min(...moves), target.deviceName!).toBeGreaterThan(started);
      expect(steps.indexOf(`${target.deviceId}:healthy`), target.deviceName!).toBeLessThan(passed);
      if (target.wave > 1) expect(started).toBeGreaterThan(steps.indexOf(`wave ${target.wave - 1}:passed`));
    }
    expect(steps.at(-1)).toBe('rollout:completed');

    // Success is what the devices report: every Status serves version 3, with version 2 kept to roll back to.
    const devices = await devicesById(testHub);
    for (const id of idsOf(pis, mcus)) {
      expect(devices.get(id)).toMatchObject({ status: 'online', activeVersionId: v3, activeSha256: done.bundleSha256, previousVersionId: v2, registryVersions: { active: { model: MODEL, version: 3 } } });
    }
    // Each device's self-test of version 3 and its baseline (version 2) on the same held-out digits of its own.
    for (const target of done.targets) {
      const { selfTest, baseline } = target;
      console.log(`${target.deviceName}: wave ${target.wave}, version 2 ${pts(baseline!.accuracy)} % → version 3 ${pts(selfTest!.accuracy)} %, p95 ${baseline!.p95Ms} → ${selfTest!.p95Ms} ms`);
      expect(target).toMatchObject({ state: 'healthy', verdict: 'healthy', changed: true, errorCode: null, selfTest: { examples: SELF_TEST_EXAMPLES }, baseline: { examples: SELF_TEST_EXAMPLES } });
      expect(selfTest!.accuracy).toBeGreaterThan(baseline!.accuracy);
      // An MCU times each inference at the resource model's estimate for the graph (the same for both versions of the
      // architecture, 3 ms on an mcu-m4), not at the host's time (a Pi's figures here are the host's).
      if (mcuIds.has(target.deviceId)) {
        expect([...estimatesMs]).toHaveLength(1);
        expect(Math.min(selfTest!.p50Ms, baseline!.p50Ms)).toBeGreaterThanOrEqual([...estimatesMs][0]!);
      }
    }
  }, 120_000);

  it('a version worse on some second-wave devices\' own digits fails their health gate: the rollout aborts and every changed device is back on its previous version', async () => {
    const hub = await servingHub(1);
    const { testHub } = hub;
    const v2 = hub.versions[1]!;
    // Version 3: version 2 trained one more epoch on 2,000 digits of which only every 20th 7, 8 and 9 was kept.
    await addTrainedVersion(testHub, v2, 21, 2000, (label, seenOfLabel) => !FAULT_DIGITS.includes(label) || seenOfLabel % 20 === 0);
    await quantizeVersion(testHub, 3);

    // Waves fill in id order, so the devices are enrolled first: the two lowest ids form wave 1, the other three
    // wave 2, whose last two hold only 7s, 8s and 9s; every other device holds only the digits 0 to 6. Wave 2 aborts
    // when more than half of it failed: once both of those devices were judged.
    const pis = await enrollAhead(testHub, PI, 'rpi4', 3);
    const mcus = await enrollAhead(testHub, MCU, 'mcu-m4', 2);
    const order = [...pis.ids, ...mcus.ids].sort();
    const faulty = new Set(order.slice(3));
    const dataOf = (ids: string[]) => (index: number) => (faulty.has(ids[index]!) ? FAULT_DATA : OTHER_DATA);
    await startFleet(testHub, PI, 3, { credentialsFile: pis.credentialsFile, dataFor: dataOf(pis.ids) });
    await startFleet(testHub, MCU, 2, { credentialsFile: mcus.credentialsFile, dataFor: dataOf(mcus.ids) });
    await rollOut(testHub, int8Rollout(2, { waves: [{ percent: 100 }] }), completed, 'every device on version 2');

    const gate = { ...ACCURACY_ONLY_GATE, maxAccuracyDropPts: 5 };
    const aborted = await rollOut(testHub, int8Rollout(3, { waves: [{ devices: 2 }, { percent: 100, errorThreshold: 0.5 }], gate }), settled, 'aborted, every change rolled back');
    expect(aborted.targets.map((t) => [t.deviceId, t.wave])).toEqual(order.map((id, i) => [id, i < 2 ? 1 : 2]));
    expect(aborted).toMatchObject({ state: 'aborted', errorCode: 'HUB_ERR_ROLLOUT_ERROR_THRESHOLD' });
    expect(aborted.waves.map((w) => w.state)).toEqual(['passed', 'aborted']);

    for (const target of aborted.targets) {
      const { selfTest, baseline } = target;
      const data = faulty.has(target.deviceId) ? FAULT_DATA : OTHER_DATA;
      console.log(`${target.deviceName} (${data}): wave ${target.wave}, ${target.state}, version 2 ${baseline ? pts(baseline.accuracy) : '–'} % → version 3 ${selfTest ? pts(selfTest.accuracy) : '–'} %; ${target.reason}`);
      if (!faulty.has(target.deviceId)) continue;
      // Worse by more than the gate allows, yet above the device's own floor (1.5 × chance): the hub's gate decided.
      expect(target).toMatchObject({ errorCode: 'HUB_ERR_ROLLOUT_GATE_FAILED', verdict: 'failed', changed: true, selfTest: { examples: SELF_TEST_EXAMPLES }, baseline: { examples: SELF_TEST_EXAMPLES } });
      expect(selfTest!.accuracy).toBeGreaterThan(0.15);
      const dropPts = pts(baseline!.accuracy - selfTest!.accuracy);
      expect(dropPts).toBeGreaterThan(gate.maxAccuracyDropPts);
      expect(target.reason).toContain(`self-test accuracy ${pts(selfTest!.accuracy)} % is ${dropPts} points below the previous version's ${pts(baseline!.accuracy)} % (at most 5 allowed)`);
    }
    for (const id of order.slice(0, 2)) {
      const target = targetOf(aborted, { deviceId: id })!;
      expect(target).toMatchObject({ state: 'rolled-back', verdict: 'healthy', changed: true });
      expect(target.selfTest!.accuracy).toBeGreaterThan(target.baseline!.accuracy);
    }
    // Every changed device confirmed its rollback; none of them serves version 3 any more.
    expect(aborted.targets.filter((t) => t.changed).every((t) => t.state === 'rolled-back')).toBe(true);
    await waitFor(async () => [...(await devicesById(testHub)).values()].every((d) => d.activeVersionId === v2), 10_000, 'every Status back on version 2');
    for (const device of (await devicesById(testHub)).values()) expect(device).toMatchObject({ activeVersionId: v2, registryVersions: { active: { model: MODEL, version: 2 } } });
  }, 120_000);

  it('a device offline when its wave starts catches up when it comes back', async () => {
    const hub = await servingHub(1);
    const { testHub } = hub;
    const v2 = hub.versions[1]!;
    await startFleet(testHub, PI, 2);
    const mcus = await startFleet(testHub, MCU, 1);
    const away = mcus.devices[0]!.agent;
    const awayId = away.deviceId!;
    await away.stop('powered off');
    await waitFor(() => !testHub.hub.fleet.presence.isOnline(awayId), 10_000, 'the hub sees the device offline');

    // Online devices come first: the offline one is in the last wave, which passes on the devices that answered.
    const done = await rollOut(testHub, int8Rollout(2, { waves: [{ devices: 1 }, { percent: 100 }] }), completed, 'completed without the offline device');
    expect(targetOf(done, { deviceId: awayId })).toMatchObject({ wave: 2, state: 'pending', commandId: null, attempts: 0 });
    expect(done.waves[1]).toMatchObject({ state: 'passed', size: 2, healthy: 1, failed: 0 });
    expect((await devicesById(testHub)).get(awayId)).toMatchObject({ status: 'offline', activeVersionId: null });

    // The same agent starts again: its saved credentials, its model store (still empty).
    await away.start();
    const caughtUp = await waitForRollout(testHub.api, done.id, (r) => targetOf(r, { deviceId: awayId })!.state === 'healthy', 'the device caught up', ROLLOUT_TIMEOUT_MS);
    expect(away.deviceId).toBe(awayId);
    expect(targetOf(caughtUp, { deviceId: awayId })).toMatchObject({ verdict: 'healthy', changed: true, attempts: 1, errorCode: null, selfTest: { examples: SELF_TEST_EXAMPLES } });
    expect(caughtUp.state).toBe('completed');
    await waitFor(async () => (await devicesById(testHub)).get(awayId)?.activeVersionId === v2, 10_000, 'its Status on version 2');
  }, 120_000);

  it('a chunked download cut by a dropped connection resumes: the chunks the device has are not fetched again', async () => {
    const proxy = await startTcpProxy();
    // Envelopes of at most 16 KiB: the hub answers with 15 KiB chunks, so the int8 2NN (~200 KB) comes in 14.
    const hub = await servingHub(1, { config: { publicMqttUrl: proxy.mqttUrl, maxPayloadBytes: 16 * 1024 } });
    const { testHub } = hub;
    proxy.setTarget(Number(new URL(testHub.mqttUrl).port));
    const mcu = await startFleet(testHub, MCU, 1);
    const { agent } = mcu.devices[0]!;
    const deviceId = agent.deviceId!;
    const { payload } = (await testHub.hub.bundles.build(hub.versions[1]!, { format: 'tflite', encoding: 'int8' })).manifest;

    // The device's chunk requests as the hub receives them; the connection drops (a reset, no DISCONNECT) when the
    // request for chunk DROP_AT arrives: with at most 4 requests in flight, DROP_AT − 4 chunks or more had arrived.
    const DROP_AT = 8;
    const requests: { index: number; afterDrop: boolean }[] = [];
    let dropped = false;
    let bytesBeforeDrop = -1;
    agent.once('offline', () => void (bytesBeforeDrop = agent.bytesFetched));
    onTestFinished(testHub.hub.broker.router.on('fetch', ({ deviceId: from, envelope }) => {
      const request = envelope.chunkRequest;
      if (from !== deviceId || request?.sha256 !== payload.sha256) return;
      requests.push({ index: request.index ?? 0, afterDrop: dropped });
      if (!dropped && (request.index ?? 0) >= DROP_AT) {
        dropped = true;
        proxy.dropConnections();
      }
    }));

    const done = await rollOut(testHub, int8Rollout(2, { waves: [{ percent: 100 }] }), completed, 'rolled out across the dropped connection');
    expect(targetOf(done, { deviceId })).toMatchObject({ state: 'healthy', attempts: 1 });
    await waitFor(async () => (await devicesById(testHub)).get(deviceId)?.activeVersionId === hub.versions[1], 10_000, 'Status on version 2');
    expect(dropped).toBe(true);
    expect(proxy.accepted).toBeGreaterThanOrEqual(2);

    const chunkBytes = 16 * 1024 - 1024;
    const totalChunks = Math.ceil(payload.sizeBytes / chunkBytes);
    const receivedBeforeDrop = bytesBeforeDrop / chunkBytes;
    console.log(`${totalChunks} chunks; ${receivedBeforeDrop} received before the drop; requests ${requests.map((r) => `${r.afterDrop ? '+' : ''}${r.index}`).join(' ')}`);
    expect(Number.isInteger(receivedBeforeDrop)).toBe(true);
    expect(receivedBeforeDrop).toBeGreaterThanOrEqual(DROP_AT - 4);
    expect(receivedBeforeDrop).toBeLessThan(totalChunks);
    // After the reconnect the device asks only for chunks it does not have: those in flight when the connection
    // dropped and those it had not asked for yet — never one of the chunks it had received.
    const askedAfter = new Set(requests.filter((r) => r.afterDrop).map((r) => r.index));
    expect(askedAfter.size).toBeGreaterThan(0);
    expect(askedAfter.size).toBeLessThanOrEqual(totalChunks - receivedBeforeDrop);
    expect(new Set(requests.map((r) => r.index)).size).toBe(totalChunks);
    // Each chunk counted once over the wire.
    expect(agent.bytesFetched).toBe(payload.sizeBytes);
  }, 120_000);
});
