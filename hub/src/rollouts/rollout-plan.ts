/**
 * Which devices a rollout targets and in which wave (issue 10 item 4). Targets are the enrolled devices matching the
 * selector, ordered online first, then by id (deterministic: the same fleet gives the same waves). A device whose
 * profile cannot run the bundle is `skipped` with the reason, one already serving the version is `healthy`: both
 * are in wave 0 (no wave sends them anything, no threshold counts them). The others fill the waves cumulatively:
 * wave k reaches the first ⌈percent × n / 100⌉ (or `devices`) of them, the last wave all of them.
 */
import { profileMeetsManifest, type BundleManifest } from '@fedfleet/proto';
import type { DeviceRecord } from '../fleet/device-repo.js';
import type { WaveConfig } from './rollout-request.js';
import type { TargetMode, TargetRecord } from './rollout-repo.js';

export type PlannedTarget = Pick<TargetRecord, 'deviceId' | 'wave' | 'mode' | 'state' | 'verdict' | 'errorCode' | 'reason'>;

export interface PlanInput {
  manifest: BundleManifest;
  versionId: string;
  waves: readonly WaveConfig[];
}

/** Whether the device reports the version as its serving one (and the same payload, when it reports a sha256). */
export function servesVersion(device: Pick<DeviceRecord, 'activeVersionId'> & { activeSha256?: string | null }, versionId: string, sha256: string): boolean {
  return device.activeVersionId === versionId && (!device.activeSha256 || device.activeSha256 === sha256);
}

/** A target that needs nothing from any wave, or undefined when the device is to be deployed. */
export function waveZeroTarget(device: DeviceRecord, input: PlanInput): PlannedTarget | undefined {
  const base = { deviceId: device.id, wave: 0, mode: 'activate' as TargetMode };
  const misfit = profileMeetsManifest(device.profile, input.manifest);
  if (misfit) return { ...base, state: 'skipped', verdict: null, errorCode: 'HUB_ERR_ROLLOUT_PROFILE_MISMATCH', reason: misfit };
  if (servesVersion(device, input.versionId, input.manifest.payload.sha256)) {
    return { ...base, state: 'healthy', verdict: null, errorCode: null, reason: 'already serving the version' };
  }
  return undefined;
}

/** Cumulative target counts reached by each wave, for `n` devices to deploy (the last wave reaches all n). */
export function waveBounds(waves: readonly WaveConfig[], n: number): number[] {
  const bounds: number[] = [];
  let previous = 0;
  for (const [i, wave] of waves.entries()) {
    const reach = i === waves.length - 1 ? n : wave.percent !== null ? Math.ceil((wave.percent * n) / 100 - 1e-9) : Math.min(wave.devices ?? n, n);
    previous = Math.max(previous, Math.min(reach, n));
    bounds.push(previous);
  }
  return bounds;
}

export function modeOf(wave: WaveConfig | undefined): TargetMode {
  return wave?.shadow ? 'shadow' : 'activate';
}

/** The targets of a new rollout, in order (online first, then by id). */
export function planTargets(devices: readonly DeviceRecord[], isOnline: (id: string) => boolean, input: PlanInput): PlannedTarget[] {
  const ordered = [...devices].sort((a, b) => Number(isOnline(b.id)) - Number(isOnline(a.id)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const planned: PlannedTarget[] = [];
  const toDeploy: DeviceRecord[] = [];
  for (const device of ordered) {
    const zero = waveZeroTarget(device, input);
    if (zero) planned.push(zero);
    else toDeploy.push(device);
  }
  const bounds = waveBounds(input.waves, toDeploy.length);
  let wave = 0;
  for (const [i, device] of toDeploy.entries()) {
    while (i >= bounds[wave]!) wave++;
    planned.push({ deviceId: device.id, wave: wave + 1, mode: modeOf(input.waves[wave]), state: 'pending', verdict: null, errorCode: null, reason: null });
  }
  return planned;
}
