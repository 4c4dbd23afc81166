// Whether a device meets a bundle's minimum profile (proto/docs/bundles.md#minimum-profile), shared by the hub, which
// skips devices that cannot run a rollout's bundle, and the device, which refuses one before downloading it.
import { formatKiB } from '../mcu/fit-check.js';
import type { HardwareProfileProps } from '../messages.js';
import type { BundleManifest } from './manifest.js';

/**
 * `undefined` when the device can run the bundle, else why not with the numbers ("needs 310 KiB (317440 bytes) RAM,
 * device has 256 KiB (262144 bytes)"; "float model on an int8-only device"). A profile that is not int8-only is
 * taken to have TensorFlow.js (Node agents do; int8_only is how a device says it has no float kernels). RAM or flash
 * of 0 means the device did not declare it and is not checked, as the training-size check does.
 */
export function profileMeetsManifest(profile: HardwareProfileProps, m: BundleManifest): string | undefined {
  const need = m.minProfile;
  const reasons: string[] = [];
  if (profile.int8Only && (!need.int8Only || need.runtime !== 'int8-kernels')) {
    reasons.push(`float model on an int8-only device (${m.encoding} ${m.format} needs runtime ${need.runtime})`);
  }
  const ramBytes = Number(profile.ramBytes ?? 0);
  const flashBytes = Number(profile.flashBytes ?? 0);
  if (ramBytes > 0 && need.ramBytes > ramBytes) reasons.push(`needs ${formatKiB(need.ramBytes)} RAM, device has ${formatKiB(ramBytes)}`);
  if (flashBytes > 0 && need.flashBytes > flashBytes) reasons.push(`needs ${formatKiB(need.flashBytes)} flash, device has ${formatKiB(flashBytes)}`);
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}
