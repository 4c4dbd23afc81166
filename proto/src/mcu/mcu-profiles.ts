import type { Encoding } from '../encoding.js';

/**
 * The microcontroller classes fedfleet models, shared by the hub (which shows fit and latency), and firmware-sim
 * (whose `mcu-m4` / `mcu-m7` devices refuse what does not fit). RAM, flash and clock follow the data sheets of the
 * named parts; cycles per multiply-accumulate follow the sources below (see proto/docs/mcu-resource-model.md).
 */


export interface McuProfile {
  name: string;
  /** SRAM available to the tensor arena, bytes. */
  ramBytes: number;
  /** Flash available to the model, bytes. */
  flashBytes: number;
  cpuMhz: number;
  /** Core cycles per multiply-accumulate, end to end (kernels, pooling, framework overhead), per format. */
  cyclesPerMac: Readonly<Record<Encoding, number>>;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * int8 on Cortex-M7 with CMSIS-NN: Lai, Suda, Chandra, "CMSIS-NN: Efficient Neural Network Kernels for Arm
 * Cortex-M CPUs", arXiv:1801.06601 (2018), §4: their CIFAR-10 CNN runs in 99.1 ms per image (10.1 images/s) on an
 * STM32F746 (Cortex-M7) at 216 MHz. That network (conv 5×5×3→32 on 32×32, conv 5×5×32→32 on 16×16,
 * conv 5×5×32→64 on 8×8, fully connected 1024→10) has 2,457,600 + 6,553,600 + 3,276,800 + 10,240 = 12,298,240
 * MACs, so 216e6 × 0.0991 / 12,298,240 ≈ 1.74 cycles per MAC, pooling and activations included.
 * (The runtime is as recalled from the paper; the search tool used to write this only returned its abstract.)
 */
export const CORTEX_M7_INT8_CYCLES_PER_MAC = Math.round((216e6 * 0.0991 / 12_298_240) * 100) / 100;

/**
 * Cortex-M4 int8: ASSUMPTION, no published end-to-end figure found. Both cores run the same CMSIS-NN DSP path
 * (SMLAD: two 16-bit MACs per instruction), but the M7 dual-issues loads beside it; Arm rates the cores at
 * 3.42 and 5.01 CoreMark/MHz, so the M7 figure is scaled by 5.01 / 3.42 ≈ 1.46.
 */
export const CORTEX_M4_INT8_CYCLES_PER_MAC = Math.round(CORTEX_M7_INT8_CYCLES_PER_MAC * (5.01 / 3.42) * 100) / 100;

/**
 * fp32 (and fp16, computed in fp32): ASSUMPTION. TFLite Micro's float kernels are the portable reference loops
 * (CMSIS-NN has no float kernels): per MAC two loads, one VFMA on the single-precision FPU and index arithmetic,
 * taken as 4 cycles on the M7 and, by the same CoreMark ratio, 6 on the M4.
 */
export const CORTEX_M7_FP32_CYCLES_PER_MAC = 4;
export const CORTEX_M4_FP32_CYCLES_PER_MAC = 6;

export const MCU_PROFILES: Readonly<Record<'mcu-m4' | 'mcu-m7', McuProfile>> = Object.freeze({
  /** STM32F4-class Cortex-M4F (STM32F407: 168 MHz, 1 MiB flash; 256 KiB SRAM as in the larger F4 parts). */
  'mcu-m4': {
    name: 'mcu-m4', ramBytes: 256 * KiB, flashBytes: 1 * MiB, cpuMhz: 168,
    cyclesPerMac: { int8: CORTEX_M4_INT8_CYCLES_PER_MAC, fp16: CORTEX_M4_FP32_CYCLES_PER_MAC, fp32: CORTEX_M4_FP32_CYCLES_PER_MAC },
  },
  /** STM32H7-class Cortex-M7 (STM32H743: 480 MHz, 2 MiB flash, 1 MiB SRAM). */
  'mcu-m7': {
    name: 'mcu-m7', ramBytes: 1 * MiB, flashBytes: 2 * MiB, cpuMhz: 480,
    cyclesPerMac: { int8: CORTEX_M7_INT8_CYCLES_PER_MAC, fp16: CORTEX_M7_FP32_CYCLES_PER_MAC, fp32: CORTEX_M7_FP32_CYCLES_PER_MAC },
  },
});
