import type { HardwareProfileProps } from '@fedfleet/proto';

/** A simulated device class. Figures follow the vendors' data sheets for the named parts. */
export interface SimProfile extends HardwareProfileProps {
  kind: string;
  ramBytes: number;
  flashBytes: number;
  cpuMhz: number;
  int8Only: boolean;
  canTrain: boolean;
  /** Relative compute speed (1 = this host); slows simulated training and inference. */
  speedFactor: number;
  description: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const SIM_PROFILES: Readonly<Record<string, SimProfile>> = {
  /** STM32F4-class Cortex-M4F: integer-only int8 inference, no training. */
  'mcu-m4': { kind: 'mcu-m4', ramBytes: 256 * KiB, flashBytes: 1 * MiB, cpuMhz: 168, cores: 1, arch: 'armv7e-m', int8Only: true, canTrain: false, speedFactor: 0.01, description: 'Cortex-M4F, 256 KiB SRAM, 1 MiB flash, int8 inference only' },
  /** STM32H7-class Cortex-M7: int8 inference, no training. */
  'mcu-m7': { kind: 'mcu-m7', ramBytes: 1 * MiB, flashBytes: 2 * MiB, cpuMhz: 480, cores: 1, arch: 'armv7e-m', int8Only: true, canTrain: false, speedFactor: 0.03, description: 'Cortex-M7, 1 MiB SRAM, 2 MiB flash, int8 inference only' },
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
  const { speedFactor: _speed, description: _description, ...wire } = profile;
  return wire;
}
