/**
 * The model loader of a simulated device: microcontrollers load only int8 .tflite payloads, judged on the decoded
 * graph (not on what the manifest claims) against their flash and arena, and time each inference at the resource
 * model's estimate on the device clock; Linux-class profiles load what an agent loads.
 */
import { describe, expect, it } from 'vitest';
import { AgentError } from '@fedfleet/agent';
import { encodeModelBlob, TensorEncoding, type McuFit } from '@fedfleet/proto';
import { smallMlp } from '../../agent/test/ml/fixtures.js';
import { heldOut, int8Payload, testBundle, testKey } from '../../agent/test/model-store/fixtures.js';
import { SIM_PROFILES, SimDeviceClock, simModelLoader, type SimProfile } from '../src/index.js';

const key = testKey();
const int8 = testBundle(key, 'v1', int8Payload(4));

/** A signed float 784-4-10 MLP (ModelBlob payload). */
function floatBundle() {
  const mlp = encodeModelBlob(smallMlp(1, 4), TensorEncoding.TENSOR_ENCODING_FP32);
  return testBundle(key, 'v2', mlp, {
    format: 'tfjs-layers', encoding: 'fp32', input: { shape: [784] }, numClasses: 10,
    minProfile: { ramBytes: 65_536, flashBytes: 65_536, int8Only: false, runtime: 'tfjs' },
  });
}

async function refusal(promise: Promise<unknown>): Promise<AgentError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AgentError);
  return error as AgentError;
}

describe('simulated device model loader', () => {
  it('an mcu-m4 refuses a float (tfjs-layers) payload before decoding it: no float kernels', async () => {
    const float = floatBundle();
    const loader = simModelLoader(SIM_PROFILES['mcu-m4']!, { clock: new SimDeviceClock() });
    const error = await refusal(loader(float.parsed, float.payload));
    expect(error.code).toBe('AGENT_ERR_CANNOT_RUN_FLOAT');
    expect(error.message).toMatch(/: fp32 tfjs-layers model on mcu-m4: profile runs int8 \.tflite models only$/);
  });

  it('a microcontroller judges the graph it decoded, whatever the manifest claims, and refuses it with the numbers', async () => {
    // The manifest says 4 KiB of RAM is enough (the graph's arena is 4,160 bytes); the profile has 64 bytes.
    const tiny: SimProfile = { ...SIM_PROFILES['mcu-m4']!, kind: 'mcu-tiny', ramBytes: 64 };
    const error = await refusal(simModelLoader(tiny, { clock: new SimDeviceClock() })(int8.parsed, int8.payload));
    expect(error.code).toBe('AGENT_ERR_MODEL_TOO_LARGE');
    expect(error.message).toMatch(/: int8 model on mcu-tiny: needs [\d.]+ KiB \(\d+ bytes\) arena \(RAM\), profile has 0\.1 KiB \(64 bytes\)$/);
  });

  it("an MCU inference lasts the resource model's estimate on the device clock, not the host's time", async () => {
    // A 1 kHz core: the estimate is seconds, the host takes microseconds.
    const slow: SimProfile = { ...SIM_PROFILES['mcu-m4']!, kind: 'mcu-slow', cpuMhz: 0.001 };
    const clock = new SimDeviceClock();
    const fits: McuFit[] = [];
    const model = await simModelLoader(slow, { clock, onFit: (fit) => fits.push(fit) })(int8.parsed, int8.payload);
    expect(fits).toEqual([expect.objectContaining({ profile: 'mcu-slow', fits: true, macs: 16 })]);
    expect(fits[0]!.estLatencyMs).toBeCloseTo((16 * slow.cyclesPerMac!.int8) / 1, 9);
    const example = heldOut(1)[0]!;
    const startMs = clock.now();
    const prediction = await model.predict(example.x);
    expect(clock.now() - startMs).toBeGreaterThanOrEqual(fits[0]!.estLatencyMs);
    expect(prediction.classIndex).toBe(example.label);
  });

  it('a Raspberry Pi loads both formats: TensorFlow.js for layers payloads, the integer kernels for int8 .tflite', async () => {
    const loader = simModelLoader(SIM_PROFILES['rpi4']!, { clock: new SimDeviceClock() });
    const example = heldOut(1)[0]!;
    expect((await (await loader(int8.parsed, int8.payload)).predict(example.x)).classIndex).toBe(example.label);
    const float = floatBundle();
    const model = await loader(float.parsed, float.payload);
    const { scores } = await model.predict(new Float32Array(784).fill(0.5));
    expect(scores).toHaveLength(10);
    model.dispose();
  });

  it("a Linux board's inference takes the host's compute time ÷ its speedFactor on the device clock", async () => {
    // A board 1,000× slower than the host: the slow-down dwarfs any scheduling noise between the clock readings.
    const slow: SimProfile = { ...SIM_PROFILES['rpi4']!, kind: 'rpi-slow', speedFactor: 0.001 };
    const clock = new SimDeviceClock();
    const model = await simModelLoader(slow, { clock })(int8.parsed, int8.payload);
    // The device readings enclose the host readings: a pause between any two of them only adds to deviceMs − hostMs.
    const deviceBefore = clock.now();
    const hostBefore = performance.now();
    const prediction = await model.predict(heldOut(1)[0]!.x);
    const hostMs = performance.now() - hostBefore;
    const deviceMs = clock.now() - deviceBefore;
    // The reported compute time is the device's; the clock moved on by the host's time plus the slow-down.
    const slowDownMs = prediction.computeMs! * (1 - slow.speedFactor);
    expect(prediction.computeMs).toBeGreaterThan(0);
    expect(deviceMs - hostMs).toBeGreaterThanOrEqual(slowDownMs - 0.01);
    expect(deviceMs - hostMs).toBeLessThan(slowDownMs + 50);
  });
});
