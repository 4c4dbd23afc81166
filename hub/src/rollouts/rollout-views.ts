/** A stored rollout as the API shows it: waves with their counts and shadow results, targets with their devices' names. */
import type { DeviceRepo } from '../fleet/device-repo.js';
import type { ModelRegistry } from '../models/model-registry.js';
import { pooledShadow } from './health-gate.js';
import type { RolloutRecord, RolloutRepo, TargetRecord } from './rollout-repo.js';
import type { RolloutDetailJson, RolloutJson, TargetJson, WaveJson } from './schemas.js';
import { tallyOf } from './target-counts.js';

export interface RolloutViewDeps {
  repo: RolloutRepo;
  registry: Pick<ModelRegistry, 'getModel' | 'getVersion'>;
  devices: Pick<DeviceRepo, 'get'>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function rolloutView(deps: RolloutViewDeps, r: RolloutRecord, targets?: readonly TargetRecord[]): RolloutJson {
  const { repo, registry } = deps;
  const tally = repo.tally(r.id);
  // The targets only give the shadow waves their pooled counts: a listing of rollouts without one reads none.
  const ofWaves = r.config.waves.some((w) => w.shadow) ? (targets ?? repo.targets(r.id)) : [];
  const waves: WaveJson[] = repo.waves(r.id).map((w) => {
    const config = r.config.waves[w.wave - 1];
    const { counts, healthy, failed } = tallyOf(tally, w.wave);
    const shadowTargets = ofWaves.filter((t) => t.wave === w.wave && t.shadow);
    return {
      number: w.wave, percent: config?.percent ?? null, devices: config?.devices ?? null, successThreshold: config?.successThreshold ?? 0,
      errorThreshold: config?.errorThreshold ?? 0, soakSec: config?.soakSec ?? 0, shadow: config?.shadow ?? null, state: w.state,
      size: counts.total - counts.skipped, counts, healthy, failed,
      shadowResult: config?.shadow ? { ...pooledShadow(shadowTargets.map((t) => t.shadow)), verdict: w.shadowVerdict } : null,
      startedAt: iso(w.startedAtMs), soakEndsAt: iso(w.soakEndsAtMs), finishedAt: iso(w.finishedAtMs),
    };
  });
  return {
    id: r.id, modelId: r.modelId, modelName: registry.getModel(r.modelId).name, versionId: r.versionId,
    version: registry.getVersion(r.versionId).version, format: r.config.format, encoding: r.config.encoding,
    bundleSha256: r.bundle.payload.sha256 ?? '', selector: r.config.selector, gate: r.config.gate,
    deviceTimeoutSec: r.config.deviceTimeoutSec, continuous: r.config.continuous, state: r.state, currentWave: r.currentWave,
    errorCode: r.errorCode, reason: r.reason, counts: tallyOf(tally).counts, waves,
    createdAt: iso(r.createdAtMs)!, updatedAt: iso(r.updatedAtMs)!, finishedAt: iso(r.finishedAtMs),
  };
}

export function targetView(deps: Pick<RolloutViewDeps, 'devices'>, t: TargetRecord): TargetJson {
  return {
    deviceId: t.deviceId, deviceName: deps.devices.get(t.deviceId)?.name ?? null, wave: t.wave, mode: t.mode, state: t.state,
    verdict: t.verdict, changed: t.changed, commandId: t.commandId, previousVersionId: t.previousVersionId, selfTest: t.selfTest,
    baseline: t.baseline, shadow: t.shadow, errorCode: t.errorCode, reason: t.reason, attempts: t.attempts,
    deadlineAt: iso(t.deadlineAtMs), updatedAt: iso(t.updatedAtMs)!,
  };
}

export function rolloutDetailView(deps: RolloutViewDeps, r: RolloutRecord): RolloutDetailJson {
  const targets = deps.repo.targets(r.id);
  return { ...rolloutView(deps, r, targets), targets: targets.map((t) => targetView(deps, t)) };
}
