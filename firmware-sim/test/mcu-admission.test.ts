/**
 * A simulated microcontroller judges the int8 model it was sent (the decoded graph, not a topology) with the MCU
 * resource model before it runs it: too big → refused with the numbers; fits → its estimated latency is reported.
 */
import { describe, expect, it } from 'vitest';
import { AgentError, silentLogger, type CommandContext } from '@fedfleet/agent';
import { buildInt8Graph, mulberry32, type FloatModel, type Int8Graph, type McuFit } from '@fedfleet/proto';
import { SIM_PROFILES, mcuInt8Admission } from '../src/index.js';

/** An int8 784-hidden-10 MLP from seeded weights. */
function int8Mlp(hidden: number): Int8Graph {
  const rng = mulberry32(hidden);
  const dense = (name: string, inputs: number, units: number, activation: 'relu' | 'none') => ({
    kind: 'dense' as const, name, units, activation,
    kernel: Float32Array.from({ length: inputs * units }, () => rng() - 0.5), bias: new Float32Array(units),
  });
  const model: FloatModel = { inputShape: [784], layers: [dense('dense1', 784, hidden, 'relu'), dense('output', hidden, 10, 'none')] };
  return buildInt8Graph(model, { input: [0, 1], layers: [[0, 8], [-8, 8]] });
}

const ctx = { commandId: 'cmd-9', log: silentLogger } as CommandContext;

describe('microcontroller admission of an int8 model', () => {
  it('an mcu-m4 refuses a 784-1400-10 int8 model with the flash numbers (AGENT_ERR_MODEL_TOO_LARGE); an mcu-m7 runs it', () => {
    const graph = int8Mlp(1400);
    const refusal = mcuInt8Admission(SIM_PROFILES['mcu-m4']!)!(graph, ctx);
    expect(refusal).toBeInstanceOf(AgentError);
    expect(refusal!.code).toBe('AGENT_ERR_MODEL_TOO_LARGE');
    // 1,111,600 int8 weights + 1,410 × 4 bias + 1,410 × 24 per-channel + 3 × 12 activation parameters
    // + 1,024 + 2 × 512 graph = 1,153,164 bytes (the topology's 1,153,688 less its softmax op) > 1 MiB.
    expect(refusal!.message).toMatch(/int8 model on mcu-m4: needs 1126\.1 KiB \(1153164 bytes\) flash, profile has 1024 KiB \(1048576 bytes\)$/);
    expect(mcuInt8Admission(SIM_PROFILES['mcu-m7']!)!(graph, ctx)).toBeUndefined();
  });

  it('admits a model that fits and reports its estimated latency (MACs × cycles per MAC ÷ clock)', () => {
    const fits: McuFit[] = [];
    const profile = SIM_PROFILES['mcu-m4']!;
    expect(mcuInt8Admission(profile, (fit) => fits.push(fit))!(int8Mlp(32), ctx)).toBeUndefined();
    expect(fits).toHaveLength(1);
    const macs = 784 * 32 + 32 * 10;
    expect(fits[0]).toMatchObject({ profile: 'mcu-m4', encoding: 'int8', fits: true, macs });
    expect(fits[0]!.estLatencyMs).toBeCloseTo((macs * profile.cyclesPerMac!.int8) / (profile.cpuMhz * 1000), 9);
  });

  it('a Raspberry Pi profile has nothing to judge', () => {
    expect(mcuInt8Admission(SIM_PROFILES['rpi4']!)).toBeUndefined();
  });
});
