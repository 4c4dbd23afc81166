import { readFile, statfs } from 'node:fs/promises';
import { arch, cpus, platform, totalmem } from 'node:os';
import type { HardwareProfileProps } from '@fedfleet/proto';

/** Where the CPU clock is read from; injected so tests can play any board. */
export interface CpuClockSources {
  /** `os.cpus()`: its `speed` is 0 where libuv finds no cpufreq (most containers, many ARM boards). */
  cpus(): ReadonlyArray<{ speed: number }>;
  /** Reads a text file; rejects when it does not exist. */
  readText(path: string): Promise<string>;
}

const SYSTEM_SOURCES: CpuClockSources = { cpus, readText: (path) => readFile(path, 'utf8') };

/** The rated maximum of CPU 0, in kHz (Linux cpufreq). */
const CPUFREQ_MAX_KHZ = '/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq';

/**
 * The CPU clock in MHz, or 0 when this machine does not say (the hub then shows none). First the rated maximum from
 * cpufreq (a steadier figure than the current speed `os.cpus()` reports, which follows the governor), then
 * `os.cpus()`, then the `cpu MHz` line x86 kernels put in /proc/cpuinfo (ARM kernels do not).
 */
export async function detectCpuMhz(sources: CpuClockSources = SYSTEM_SOURCES): Promise<number> {
  const read = (path: string) => sources.readText(path).catch(() => '');
  const maxKhz = Number.parseInt(await read(CPUFREQ_MAX_KHZ), 10);
  if (maxKhz > 0) return Math.round(maxKhz / 1000);
  const speed = sources.cpus()[0]?.speed ?? 0;
  if (speed > 0) return Math.round(speed);
  const cpuinfoMhz = Number.parseFloat(/^cpu MHz\s*:\s*([\d.]+)/im.exec(await read('/proc/cpuinfo'))?.[1] ?? '');
  return cpuinfoMhz > 0 ? Math.round(cpuinfoMhz) : 0;
}

/**
 * Describes the board the agent runs on. On a Raspberry Pi `/proc/device-tree/model` names it
 * (e.g. "Raspberry Pi 4 Model B Rev 1.4"); elsewhere the kind is `<platform>-<arch>`.
 */
export async function detectProfile(dataDir: string): Promise<HardwareProfileProps> {
  let kind = `${platform()}-${arch()}`;
  try {
    const model = (await readFile('/proc/device-tree/model', 'utf8')).replace(/\0/g, '').trim();
    if (model) kind = model;
  } catch {
    // not a device-tree board
  }
  let flashBytes = 0;
  try {
    const fs = await statfs(dataDir);
    flashBytes = fs.blocks * fs.bsize;
  } catch {
    // data dir not created yet
  }
  const cpuList = cpus();
  return {
    kind,
    ramBytes: totalmem(),
    flashBytes,
    cpuMhz: await detectCpuMhz(),
    cores: cpuList.length,
    arch: arch(),
    int8Only: false,
    canTrain: true,
  };
}
