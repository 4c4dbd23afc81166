import { describe, expect, it } from 'vitest';
import { HubEvents } from '../../src/events/hub-events.js';
import { subscribeQualitySources, type QualitySourcesDeps } from '../../src/quality/quality-sources.js';
import type { Quality } from '../../src/quality/quality.js';

type Recorded = Parameters<Quality['record']>[0];

function setup() {
  const events = new HubEvents();
  const recorded: Recorded[] = [];
  const participants = [
    { deviceId: 'dev-a', evalAccuracy: 0.8, evalExamples: 120, updatedAtMs: 5000 },
    { deviceId: 'dev-b', evalAccuracy: null, evalExamples: null, updatedAtMs: 5000 },
  ];
  const targets: Record<string, { selfTest: { examples: number; accuracy: number; p50Ms: number; p95Ms: number } | null }> = {
    'dev-a': { selfTest: { examples: 64, accuracy: 0.93, p50Ms: 1, p95Ms: 2 } },
    'dev-b': { selfTest: null },
  };
  const deps = {
    events,
    quality: { record: (s: Recorded) => (recorded.push(s), true) },
    rounds: { participants: () => participants, campaign: () => ({ modelId: 'mod-1' }) },
    rollouts: { rollout: () => ({ modelId: 'mod-1', versionId: 'ver-2' }), target: (_r: string, d: string) => targets[d] },
  } as unknown as QualitySourcesDeps;
  const off = subscribeQualitySources(deps);
  return { events, recorded, off };
}

describe('quality sources', () => {
  it("records each evaluating device's federated eval of a committed round", () => {
    const { events, recorded } = setup();
    events.emit('round.committed', { campaignId: 'c1', roundId: 'r1', number: 1, versionId: 'ver-9', accuracy: 0.8, loss: 0.1, at: '2024-01-01T00:00:00.000Z' });
    expect(recorded).toEqual([{
      deviceId: 'dev-a', versionId: 'ver-9', modelId: 'mod-1', source: 'federated-eval', ref: 'round:r1', accuracy: 0.8, examples: 120, atMs: 5000,
    }]);
  });

  it("records a rollout target's self-test once the target carries one, and stops when unsubscribed", () => {
    const { events, recorded, off } = setup();
    const target = (deviceId: string) => ({
      rolloutId: 'o1', deviceId, wave: 1, from: 'pending' as const, state: 'healthy' as const, errorCode: null, reason: null,
      counts: {} as never, at: '2024-01-01T00:00:10.000Z',
    });
    events.emit('rollout.target', target('dev-b'));
    events.emit('rollout.target', target('dev-a'));
    expect(recorded).toEqual([{
      deviceId: 'dev-a', versionId: 'ver-2', modelId: 'mod-1', source: 'self-test', ref: 'rollout:o1', accuracy: 0.93, examples: 64,
      atMs: Date.parse('2024-01-01T00:00:10.000Z'),
    }]);
    off();
    events.emit('rollout.target', target('dev-a'));
    expect(recorded).toHaveLength(1);
  });
});
