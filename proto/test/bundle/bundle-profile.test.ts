// profileMeetsManifest: a device refuses a bundle it cannot run, saying by how much.
import { describe, expect, it } from 'vitest';
import { MCU_PROFILES, profileMeetsManifest, type HardwareProfileProps } from '../../src/index.js';
import { int8ManifestFor, manifestFor, testKey } from './bundle-fixtures.js';

const key = testKey();
const m4 = MCU_PROFILES['mcu-m4'];
const mcu: HardwareProfileProps = { kind: 'mcu-m4', ramBytes: m4.ramBytes, flashBytes: m4.flashBytes, int8Only: true };
const linux: HardwareProfileProps = { kind: 'linux-x64', ramBytes: 8 * 2 ** 30, flashBytes: 100 * 2 ** 30, int8Only: false };

describe('profileMeetsManifest', () => {
  it('fits: int8 on an MCU with room, float and int8 on a Linux agent', () => {
    const int8 = int8ManifestFor(key, { minProfile: { ramBytes: 200 * 1024, flashBytes: 500 * 1024, int8Only: true, runtime: 'int8-kernels' } });
    expect(profileMeetsManifest(mcu, int8)).toBeUndefined();
    expect(profileMeetsManifest(linux, int8)).toBeUndefined();
    expect(profileMeetsManifest(linux, manifestFor(key))).toBeUndefined();
  });

  it('RAM short: the reason has both numbers', () => {
    const int8 = int8ManifestFor(key, { minProfile: { ramBytes: 310 * 1024, flashBytes: 1024, int8Only: true, runtime: 'int8-kernels' } });
    expect(profileMeetsManifest(mcu, int8)).toBe('needs 310 KiB (317440 bytes) RAM, device has 256 KiB (262144 bytes)');
  });

  it('flash short: the reason has both numbers', () => {
    const int8 = int8ManifestFor(key, { minProfile: { ramBytes: 1024, flashBytes: 2 * 1024 * 1024, int8Only: true, runtime: 'int8-kernels' } });
    expect(profileMeetsManifest(mcu, int8)).toBe('needs 2048 KiB (2097152 bytes) flash, device has 1024 KiB (1048576 bytes)');
  });

  it('a float (tfjs) payload on an int8-only device is refused, whatever its size', () => {
    const tiny = manifestFor(key, { minProfile: { ramBytes: 1, flashBytes: 1, int8Only: false, runtime: 'tfjs' } });
    expect(profileMeetsManifest(mcu, tiny)).toMatch(/^float model on an int8-only device \(fp32 tfjs-layers needs runtime tfjs\)$/);
    const fp16 = manifestFor(key, { encoding: 'fp16' });
    expect(profileMeetsManifest({ ...mcu, ramBytes: 2 ** 40, flashBytes: 2 ** 40 }, fp16)).toMatch(/float model on an int8-only device/);
  });

  it('every shortfall is named; undeclared RAM and flash (0) are not checked', () => {
    const big = manifestFor(key, { minProfile: { ramBytes: 2 ** 20, flashBytes: 2 ** 21, int8Only: false, runtime: 'tfjs' } });
    const reason = profileMeetsManifest({ ...mcu, ramBytes: 1024, flashBytes: 1024 }, big) ?? '';
    expect(reason.split('; ')).toHaveLength(3);
    expect(profileMeetsManifest({ int8Only: false }, big)).toBeUndefined();
  });
});
