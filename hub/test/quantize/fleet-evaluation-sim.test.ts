/**
 * Issue 9's int8 path end to end on simulated devices: a digit classifier (trained a little here, seeded) quantized
 * by a fleet job — Raspberry Pi sims calibrate it on their MNIST partitions — and the int8 .tflite evaluated
 * integer-only by the same Pis and by mcu-m4 microcontroller sims, each on its own held-out digits; a microcontroller
 * with 8 KiB of flash refuses it with the numbers. Every per-device figure is what the integer-only kernels give on that
 * device's partition of the stored file, and the fleet figure stays within a few points of the float model's.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { mnistDataSource } from '@fedfleet/agent/ml';
import { evaluateInt8Graph } from '@fedfleet/agent/training';
import { SimFleet, simProfile, type SimProfile } from '@fedfleet/firmware-sim';
import { decodeTfliteInt8, type McuFit } from '@fedfleet/proto';
import { runCli } from '../helpers/cli.js';
import { createToken, waitFor } from '../helpers/devices.js';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/test-hub.js';
import { saveTfjsModel, type Api } from '../rounds/round-helpers.js';
import { finished, startQuantization } from './quantize-helpers.js';

const SEED = 5;
/** Two Pis (partitions 0, 1), two mcu-m4 (2, 3) and one microcontroller too small for the model (4). */
const FLEET_SIZE = 5;
const partitionOf = (index: number) => mnistDataSource({ devices: FLEET_SIZE, index, partition: 'iid', seed: SEED });

/** A Cortex-M0+-class board: 8 KiB of flash cannot hold 784 × 16 int8 weights. */
const TINY_MCU: SimProfile = { ...simProfile('mcu-m4'), kind: 'mcu-m0', ramBytes: 32 * 1024, flashBytes: 8 * 1024, description: 'too small' };

/** 784 → 16 ReLU → 10 softmax, seeded, two epochs of SGD on the Pis' training digits (no shuffle: deterministic). */
async function trainDigitModel(): Promise<tf.Sequential> {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 16, inputShape: [784], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(0.2), loss: 'sparseCategoricalCrossentropy' });
  const parts = [partitionOf(0).train(), partitionOf(1).train()];
  const count = parts.reduce((n, p) => n + p.count, 0);
  const x = new Float32Array(count * 784);
  const y = new Float32Array(count);
  let at = 0;
  for (const part of parts) {
    x.set(part.x.subarray(0, part.count * 784), at * 784);
    y.set(part.y.subarray(0, part.count), at);
    at += part.count;
  }
  const [xs, ys] = [tf.tensor2d(x, [count, 784]), tf.tensor1d(y)];
  await model.fit(xs, ys, { epochs: 2, batchSize: 32, shuffle: false, verbose: 0 });
  tf.dispose([xs, ys]);
  onTestFinished(() => void model.dispose());
  return model;
}

function floatAccuracy(model: tf.Sequential, index: number): { correct: number; count: number } {
  const test = partitionOf(index).test();
  const predicted = tf.tidy(() => Array.from((model.predict(tf.tensor2d(test.x.subarray(0, test.count * 784), [test.count, 784])) as tf.Tensor).argMax(-1).dataSync()));
  return { correct: predicted.filter((p, i) => p === test.y[i]).length, count: test.count };
}

async function startFleet(testHub: TestHub, profile: SimProfile, firstIndex: number, devices: number): Promise<SimFleet> {
  const { token } = await createToken(testHub, { maxUses: devices });
  const fleet = new SimFleet({
    hubUrl: testHub.httpUrl, enrollmentToken: token, devices, firstIndex, fleetSize: FLEET_SIZE, profile, data: 'mnist:iid', seed: SEED, namePrefix: profile.kind, heartbeatSec: 30, labels: { site: 'lab' },
  });
  onTestFinished(() => fleet.stop());
  await fleet.start();
  return fleet;
}

describe('the int8 model evaluated on simulated devices', () => {
  it('Pis and mcu-m4 sims evaluate the job\'s int8 .tflite integer-only on their own digits; a microcontroller too small refuses with the numbers', async () => {
    const testHub = await startTestHub();
    const api: Api = (method, url, body) => testHub.api(method, url, body);
    const model = await trainDigitModel();
    const { modelJson, weights } = await saveTfjsModel(model);
    expect((await api('POST', '/v1/models/import', { name: 'digits', modelJson, weightsBase64: Buffer.from(weights).toString('base64') })).status).toBe(201);

    const pis = await startFleet(testHub, simProfile('rpi4'), 0, 2);
    const mcus = await startFleet(testHub, simProfile('mcu-m4'), 2, 2);
    const tiny = await startFleet(testHub, TINY_MCU, 4, 1);
    const fits: McuFit[] = [];
    mcus.on('modelFit', ({ fit }) => fits.push(fit));
    const ids = (fleet: SimFleet) => fleet.devices.map((d) => d.agent.deviceId!);
    await waitFor(() => [...ids(pis), ...ids(mcus), ...ids(tiny)].every((id) => testHub.hub.fleet.presence.isOnline(id)), 10_000, 'devices online');

    const job = await startQuantization(api, 'digits', 1, { calibrate: 'fleet', selector: 'site=lab', minDevices: 2, maxExamplesPerDevice: 200, evaluate: true });
    expect(job.devicesAsked).toBe(2); // only the Pis run the float model
    const done = await finished(api, job.id, 60_000);
    expect(done).toMatchObject({ state: 'done', devicesReported: 2, evaluate: { selector: 'site=lab' } });

    // Each device's figure is the integer-only kernels' on its own held-out digits, from the stored file.
    const graph = decodeTfliteInt8(new Uint8Array((await testHub.hub.store.blobs.get(done.artifact!.sha256))!));
    const byDevice = new Map(done.evalDevices.map((d) => [d.deviceId, d]));
    const evaluators = [...pis.devices, ...mcus.devices];
    let weighted = 0;
    let examples = 0;
    for (const device of evaluators) {
      const expected = evaluateInt8Graph(graph, partitionOf(device.index).test());
      expect(byDevice.get(device.agent.deviceId!), device.name).toMatchObject({ state: 'evaluated', exampleCount: expected.count, accuracy: Math.fround(expected.accuracy) });
      weighted += expected.count * Math.fround(expected.accuracy);
      examples += expected.count;
    }
    const tinyId = ids(tiny)[0]!;
    expect(done.fleetEval).toMatchObject({ state: 'done', devicesAsked: 5, devices: 4, examples });
    expect(done.fleetEval!.accuracy).toBeCloseTo(weighted / examples, 9);
    expect(done.fleetEval!.refused).toEqual([{ deviceId: tinyId, code: 'AGENT_ERR_MODEL_TOO_LARGE', reason: expect.stringMatching(/int8 model on mcu-m0: needs [\d.]+ KiB \(\d+ bytes\) flash, profile has 8 KiB/) }]);
    expect(fits).toHaveLength(2);
    expect(fits.every((fit) => fit.profile === 'mcu-m4' && fit.fits)).toBe(true);

    // Trained a little, the int8 model classifies digits, and within a few points of the float model on the same devices.
    const float = evaluators.map((d) => floatAccuracy(model, d.index)).reduce((s, r) => ({ correct: s.correct + r.correct, count: s.count + r.count }));
    expect(done.fleetEval!.accuracy!).toBeGreaterThan(0.5);
    expect(Math.abs(done.fleetEval!.accuracy! - float.correct / float.count)).toBeLessThan(0.03);

    const shown = await runCli(['models', 'show', 'digits', '--hub', testHub.httpUrl], { env: { FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
    expect(shown.stdout).toMatch(new RegExp(`^${done.id} +done +${(100 * done.fleetEval!.accuracy!).toFixed(2)}% +4/5 +${examples} +1$`, 'm'));
    expect(shown.stdout).toMatch(new RegExp(`^${done.id.slice(0, 8)} refused by ${tinyId}: AGENT_ERR_MODEL_TOO_LARGE: .*int8 model on mcu-m0: needs .* flash, profile has 8 KiB`, 'm'));
  });
});
