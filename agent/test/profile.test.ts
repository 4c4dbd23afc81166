import { describe, expect, it } from 'vitest';
import { detectCpuMhz, type CpuClockSources } from '../src/profile.js';

/** A machine with these files and this `os.cpus()` speed. */
function board(files: Record<string, string>, speed = 0, cores = 2): CpuClockSources {
  return {
    cpus: () => Array.from({ length: cores }, () => ({ speed })),
    readText: async (path) => {
      if (!(path in files)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return files[path]!;
    },
  };
}

const CPUFREQ = '/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq';
const X86_CPUINFO = 'processor\t: 0\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2096.028\ncache size\t: 512 KB\n';
const ARM_CPUINFO = 'processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\n';

describe('detectCpuMhz', () => {
  it('reads the cpufreq maximum (kHz) first, e.g. a Raspberry Pi 4', async () => {
    expect(await detectCpuMhz(board({ [CPUFREQ]: '1500000\n', '/proc/cpuinfo': ARM_CPUINFO }, 600))).toBe(1500);
  });

  it('falls back to os.cpus(), then to "cpu MHz" in /proc/cpuinfo where os.cpus() says 0 (containers)', async () => {
    expect(await detectCpuMhz(board({ '/proc/cpuinfo': X86_CPUINFO }, 1800))).toBe(1800);
    expect(await detectCpuMhz(board({ '/proc/cpuinfo': X86_CPUINFO }, 0))).toBe(2096);
  });

  it('says 0 (unknown) when nothing tells, as on an ARM board without cpufreq', async () => {
    expect(await detectCpuMhz(board({ '/proc/cpuinfo': ARM_CPUINFO }, 0))).toBe(0);
    expect(await detectCpuMhz(board({}, 0, 0))).toBe(0);
    expect(await detectCpuMhz(board({ [CPUFREQ]: 'garbage', '/proc/cpuinfo': 'cpu MHz : n/a' }, 0))).toBe(0);
  });
});
