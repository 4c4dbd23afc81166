/**
 * Durations of rounds, rollouts and quantization jobs, and update rejections, taken from the hub's events (the
 * capabilities announce each committed change there; metrics only listen). A start is remembered from the first
 * event of the job and forgotten at its end, so each job is observed once; a job that started before this hub
 * process (a restart mid-round) has no start here and is not observed rather than observed wrong.
 */
import type { HubEvents } from '../events/hub-events.js';
import '../quantize/quantization-events.js';
import '../rollouts/rollout-events.js';
import '../rounds/round-events.js';
import type { HubMetrics } from './hub-metrics.js';

const ROUND_END = new Set(['committed', 'failed']);
// A completed rollout may still be aborted or superseded later (continuous deployment): its first end counts.
const ROLLOUT_END = new Set(['completed', 'aborted', 'superseded']);

/** Remembers when each job started; `end` returns the seconds since, once, and forgets the job. */
function startTimes() {
  const startedAtMs = new Map<string, number>();
  return {
    start(id: string, at: string): void {
      if (!startedAtMs.has(id)) startedAtMs.set(id, Date.parse(at));
    },
    end(id: string, at: string): number | undefined {
      const started = startedAtMs.get(id);
      if (started === undefined) return undefined;
      startedAtMs.delete(id);
      return Math.max(0, Date.parse(at) - started) / 1000;
    },
  };
}

/** Subscribes the lifecycle metrics to `events`; returns the unsubscribe function. */
export function observeLifecycles(events: HubEvents, metrics: HubMetrics): () => void {
  const rounds = startTimes();
  const rollouts = startTimes();
  const quantizations = startTimes();
  const quantizationEnded = (outcome: 'completed' | 'failed') => ({ jobId, at }: { jobId: string; at: string }) => {
    metrics.quantizationJobs.inc({ event: outcome });
    const seconds = quantizations.end(jobId, at);
    if (seconds !== undefined) metrics.quantizationDuration.observe({ outcome }, seconds);
  };

  const offs = [
    events.on('round.state', ({ roundId, state, at }) => {
      // Only `created` starts the clock: a round resumed after a restart re-announces a later state.
      if (state === 'created') return rounds.start(roundId, at);
      if (!ROUND_END.has(state)) return;
      const seconds = rounds.end(roundId, at);
      if (seconds !== undefined) metrics.roundDuration.observe({ outcome: state }, seconds);
    }),
    events.on('round.update-rejected', ({ code }) => metrics.updateRejections.inc({ code })),
    events.on('rollout.created', ({ rolloutId, at }) => rollouts.start(rolloutId, at)),
    events.on('rollout.state', ({ rolloutId, state, at }) => {
      if (!ROLLOUT_END.has(state)) return;
      const seconds = rollouts.end(rolloutId, at);
      if (seconds !== undefined) metrics.rolloutDuration.observe({ outcome: state }, seconds);
    }),
    events.on('quantization.started', ({ jobId, at }) => {
      quantizations.start(jobId, at);
      metrics.quantizationJobs.inc({ event: 'started' });
    }),
    events.on('quantization.completed', quantizationEnded('completed')),
    events.on('quantization.failed', quantizationEnded('failed')),
  ];
  return () => offs.forEach((off) => off());
}
