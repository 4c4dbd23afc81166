/**
 * Where accuracy samples come from besides telemetry, read without changing the capabilities that own them: a
 * committed round's per-device federated evaluation (round_participants, read on `round.committed`, when the
 * evaluated version exists) and a rollout target's self-test (stored with the target when the device activated the
 * version, read on each `rollout.target`; the sample's ref makes repeats no-ops), with the run of the version it
 * replaced on the same examples as a self-test of that version.
 */
import type { HubEvents } from '../events/hub-events.js';
import type { RolloutRepo } from '../rollouts/rollout-repo.js';
import '../rollouts/rollout-events.js';
import type { RoundRepo } from '../rounds/round-repo.js';
import '../rounds/round-events.js';
import type { Quality } from './quality.js';

export interface QualitySourcesDeps {
  events: HubEvents;
  quality: Pick<Quality, 'record'>;
  rounds: Pick<RoundRepo, 'participants' | 'campaign'>;
  rollouts: Pick<RolloutRepo, 'rollout' | 'target'>;
}

/** Subscribes; returns the function that unsubscribes. */
export function subscribeQualitySources(deps: QualitySourcesDeps): () => void {
  const { events, quality, rounds, rollouts } = deps;
  const offRound = events.on('round.committed', ({ campaignId, roundId, versionId }) => {
    if (!versionId) return;
    const modelId = rounds.campaign(campaignId)?.modelId ?? null;
    for (const p of rounds.participants(roundId)) {
      if (p.evalAccuracy === null || p.evalExamples === null) continue;
      quality.record({
        deviceId: p.deviceId, versionId, modelId, source: 'federated-eval', ref: `round:${roundId}`,
        accuracy: p.evalAccuracy, examples: p.evalExamples, atMs: p.updatedAtMs,
      });
    }
  });
  const offTarget = events.on('rollout.target', ({ rolloutId, deviceId, at }) => {
    const target = rollouts.target(rolloutId, deviceId);
    if (!target?.selfTest) return;
    const rollout = rollouts.rollout(rolloutId);
    if (!rollout) return;
    // The replaced version's run on the same held-out examples (the health gate's baseline) is a self-test of it too.
    if (target.baseline && target.previousVersionId && target.previousVersionId !== rollout.versionId) {
      quality.record({
        deviceId, versionId: target.previousVersionId, modelId: rollout.modelId, source: 'self-test', ref: `rollout:${rolloutId}:replaced`,
        accuracy: target.baseline.accuracy, examples: target.baseline.examples, atMs: Date.parse(at),
      });
    }
    quality.record({
      deviceId, versionId: rollout.versionId, modelId: rollout.modelId, source: 'self-test', ref: `rollout:${rolloutId}`,
      accuracy: target.selfTest.accuracy, examples: target.selfTest.examples, atMs: Date.parse(at),
    });
  });
  return () => {
    offRound();
    offTarget();
  };
}
