import { describe, expect, it } from 'vitest';
import { ProtoError } from '@fedfleet/proto';
import { SIM_PROFILES, checkModelFits, wireProfile } from '../src/index.js';

/** 784-hidden-10 MLP topology as tfjs writes it (trimmed). */
function mlp(hidden: number): object {
  return { class_name: 'Sequential', config: { layers: [
    { class_name: 'Dense', config: { name: 'dense1', units: hidden, activation: 'relu', batch_input_shape: [null, 784] } },
    { class_name: 'Dense', config: { name: 'output', units: 10, activation: 'softmax' } },
  ] } };
}

function refusal(fn: () => unknown): ProtoError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtoError);
    return error as ProtoError;
  }
  throw new Error('expected a refusal');
}

describe('firmware-sim model fit', () => {
  it('the microcontroller profiles carry cycles per MAC, the wire profile does not', () => {
    expect(SIM_PROFILES['mcu-m4']!.cyclesPerMac).toEqual({ int8: 2.55, fp16: 6, fp32: 6 });
    expect(SIM_PROFILES['mcu-m7']!.cyclesPerMac).toEqual({ int8: 1.74, fp16: 4, fp32: 4 });
    expect(wireProfile(SIM_PROFILES['mcu-m4']!)).not.toHaveProperty('cyclesPerMac');
  });

  it('an mcu-m4 accepts a small int8 MLP and refuses a large one with the numbers', () => {
    // 784-100-10 int8: 79,400 weights + 110 × 4 bias + 110 × 24 + 4 × 12 quant + 1,024 + 3 × 512 graph = 85,088
    expect(checkModelFits(mlp(100), SIM_PROFILES['mcu-m4']!)).toMatchObject({ fits: true, flashBytes: 85_088 });
    // 784-1400-10: 1,111,600 weights + 1,410 × 4 + 1,410 × 24 + 48 + 2,560 = 1,153,688 > 1 MiB
    const error = refusal(() => checkModelFits(mlp(1400), SIM_PROFILES['mcu-m4']!));
    expect(error.code).toBe('PROTO_ERR_DOES_NOT_FIT');
    expect(error.message).toContain('needs 1126.6 KiB (1153688 bytes) flash, profile has 1024 KiB (1048576 bytes)');
    // the mcu-m7 has 2 MiB of flash
    expect(checkModelFits(mlp(1400), SIM_PROFILES['mcu-m7']!)?.fits).toBe(true);
  });

  it('a microcontroller refuses a float model; a Raspberry Pi profile is not judged by the MCU model', () => {
    expect(refusal(() => checkModelFits(mlp(10), SIM_PROFILES['mcu-m7']!, 'fp32')).message).toContain('runs int8 models only');
    expect(checkModelFits(mlp(1400), SIM_PROFILES['rpi4']!)).toBeUndefined();
  });
});
