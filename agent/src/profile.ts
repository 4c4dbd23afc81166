import { readFile, statfs } from 'node:fs/promises';
import { arch, cpus, platform, totalmem } from 'node:os';
import type { HardwareProfileProps } from '@fedfleet/proto';

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
    cpuMhz: cpuList[0]?.speed ?? 0,
    cores: cpuList.length,
    arch: arch(),
    int8Only: false,
    canTrain: true,
  };
}
