import { MCU_PROFILES, type HardwareProfileProps, type Encoding, type McuProfile } from '@fedfleet/proto';

/** A simulated device class. Figures follow the vendors' data sheets for the named parts. */
export interface SimProfile extends HardwareProfileProps {
  kind: string;
  ramBytes: number;
  flashBytes: number;
  cpuMhz: number;
  int8Only: boolean;
  canTrain: boolean;
  /**
   * Core cycles per multiply-accumulate by model format, for microcontroller profiles only (the latency and fit
   * model of proto/src/mcu). Sources, from @fedfleet/proto's MCU_PROFILES: int8 on Cortex-M7 from the CMSIS-NN paper
   * (Lai, Suda, Chandra 2018, arXiv:1801.06601: 99.1 ms for a 12.3 M-MAC CIFAR-10 CNN at 216 MHz ⇒ 1.74);
   * int8 on Cortex-M4 scaled from it by Arm's CoreMark/MHz ratio 5.01 / 3.42 (an assumption ⇒ 2.55); fp32 and fp16
   * (computed in fp32) are assumptions for TFLite Micro's reference float kernels (M7: 4, M4: 6).
   */
  cyclesPerMac?: Readonly<Record<Encoding, number>>;
  /**
   * Relative compute speed of a Linux-class board (1 = this host, at most 1): its inference time on the device clock
   * is the host's ÷ this (sim-model-loader.ts). Training runs at the host's speed. Microcontrollers take the resource
   * model's estimate instead (`cyclesPerMac`).
   */
  speedFactor: number;
  description: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** RAM, flash, clock and cycles per MAC of a microcontroller class: one source, shared with the hub's fit table. */
function mcuFigures(mcu: McuProfile): Pick<SimProfile, 'ramBytes' | 'flashBytes' | 'cpuMhz' | 'cyclesPerMac'> {
  return { ramBytes: mcu.ramBytes, flashBytes: mcu.flashBytes, cpuMhz: mcu.cpuMhz, cyclesPerMac: mcu.cyclesPerMac };
}

export const SIM_PROFILES: Readonly<Record<string, SimProfile>> = {
  /** STM32F4-class Cortex-M4F: integer-only int8 inference, no training. */
  'mcu-m4': { kind: 'mcu-m4', ...mcuFigures(MCU_PROFILES['mcu-m4']), cores: 1, arch: 'armv7e-m', int8Only: true, canTrain: false, speedFactor: 0.01, description: 'Cortex-M4F, 256 KiB SRAM, 1 MiB flash, int8 inference only' },
  /** STM32H7-class Cortex-M7: int8 inference, no training. */
  'mcu-m7': { kind: 'mcu-m7', ...mcuFigures(MCU_PROFILES['mcu-m7']), cores: 1, arch: 'armv7e-m', int8Only: true, canTrain: false, speedFactor: 0.03, description: 'Cortex-M7, 1 MiB SRAM, 2 MiB flash, int8 inference only' },
  /** Raspberry Pi Zero 2 W: trains small models with TensorFlow.js (wasm). */
  'rpi-zero-2w': { kind: 'rpi-zero-2w', ramBytes: 512 * MiB, flashBytes: 16 * 1024 * MiB, cpuMhz: 1000, cores: 4, arch: 'arm64', int8Only: false, canTrain: true, speedFactor: 0.25, description: 'Raspberry Pi Zero 2 W, 512 MiB RAM, trains with TensorFlow.js wasm' },
  /** Raspberry Pi 4 Model B 4 GB. */
  'rpi4': { kind: 'rpi4', ramBytes: 4096 * MiB, flashBytes: 32 * 1024 * MiB, cpuMhz: 1500, cores: 4, arch: 'arm64', int8Only: false, canTrain: true, speedFactor: 0.5, description: 'Raspberry Pi 4 Model B, 4 GiB RAM, trains with TensorFlow.js wasm' },
};

export function simProfile(name: string): SimProfile {
  const profile = SIM_PROFILES[name];
  if (!profile) throw new RangeError(`unknown sim profile "${name}" (known: ${Object.keys(SIM_PROFILES).join(', ')})`);
  return profile;
}

/** The wire form (HardwareProfile) of a sim profile. */
export function wireProfile(profile: SimProfile): HardwareProfileProps {
  const { speedFactor: _speed, description: _description, cyclesPerMac: _cycles, ...wire } = profile;
  return wire;
}
