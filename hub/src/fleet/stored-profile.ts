/**
 * A device's stored hardware profile, read so that no row can break a listing: a profile written before the API
 * refused non-finite numbers holds `null` where a number was (JSON's Infinity), and a row edited by hand may hold
 * anything. Each field that is not what DeviceProfile says reads as its neutral value (0, '', false).
 */
import { jsonColumn } from '../store/row-values.js';
import type { DeviceProfile } from './device-repo.js';

const NEUTRAL: DeviceProfile = { kind: '', ramBytes: 0, flashBytes: 0, cpuMhz: 0, int8Only: false, canTrain: false, cores: 0, arch: '' };

export function storedProfile(text: string): DeviceProfile {
  const parsed = jsonColumn<unknown>(text, 'profile', []);
  const stored = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const profile = { ...NEUTRAL };
  for (const key of Object.keys(NEUTRAL) as (keyof DeviceProfile)[]) {
    const value = stored[key];
    const fits = typeof value === typeof NEUTRAL[key] && (typeof value !== 'number' || Number.isSafeInteger(value));
    if (fits) (profile as Record<string, unknown>)[key] = value;
  }
  return profile;
}
