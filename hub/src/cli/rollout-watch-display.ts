/**
 * What `fedfleet rollouts watch` prints as a rollout's events arrive: on a terminal one progress bar per wave
 * (devices settled / wave size, on stderr; a wave's bar is finished with its outcome when it passes or aborts), and
 * otherwise plain lines on stdout — each wave's state changes, each device that settles (with its code and reason),
 * the rollout's pauses and its end — so CI logs read as a record.
 */
import type { HubEventMap } from '../events/hub-events.js';
import '../rollouts/rollout-events.js';
import type { RolloutDetailJson, TargetCountsJson } from '../rollouts/schemas.js';
import type { TargetState, WaveState } from '../rollouts/rollout-state.js';
import { println, type CliIo } from './io.js';
import { createProgress, type Progress } from './progress.js';
import { outcomeOf, reasonOf, rolloutVersion, settledOf } from './rollout-view.js';
import { countOf } from './table.js';

/** The events a watch follows (`GET /v1/events?types=…`). */
export const ROLLOUT_WATCH_EVENTS = ['rollout.state', 'rollout.wave', 'rollout.target'] as const satisfies ReadonlyArray<keyof HubEventMap>;

export type RolloutWatchEvent = {
  [K in (typeof ROLLOUT_WATCH_EVENTS)[number]]: { name: K; data: HubEventMap[K] };
}[(typeof ROLLOUT_WATCH_EVENTS)[number]];

/** Device states worth a line of their own: where a device ends up, or why it is being rolled back. */
const REPORTED_TARGET_STATES: readonly TargetState[] = ['healthy', 'failed', 'rolling-back', 'rolled-back', 'skipped'];
const ENDED_WAVE_STATES: readonly WaveState[] = ['passed', 'aborted'];

interface WaveView {
  state: WaveState;
  size: number;
  counts: TargetCountsJson;
}

export interface RolloutWatchDisplay {
  /**
   * The rollout as fetched: at the start (what is already settled is summed up in the header, not listed), after a
   * reconnect and at the end (each draws what changed since, events it missed included).
   */
  sync(rollout: RolloutDetailJson): void;
  apply(event: RolloutWatchEvent): void;
  /** The rollout ended: draws its final state, closes the bars and prints one summary line on stdout. */
  finish(rollout: RolloutDetailJson): void;
}

export function createRolloutWatchDisplay(io: CliIo): RolloutWatchDisplay {
  const tty = Boolean(io.stderr.isTTY);
  const waves = new Map<number, WaveView>();
  /** The state each device was last shown in (or found in at the start). */
  const targets = new Map<string, TargetState>();
  let total = 0;
  let live: { wave: number; progress: Progress } | undefined;
  let rolloutState = '';
  let started = false;

  const label = (n: number, w: WaveView) => `wave ${n}/${total} ${w.state}: ${outcomeOf(w.counts)}${rolloutState === 'paused' ? ' (paused)' : ''}`;

  function closeBar(message?: string): void {
    live?.progress.finish(message);
    live = undefined;
  }

  /** Draws wave `n` after a change: its bar on a terminal, a line when its state changed otherwise. */
  function showWave(n: number, next: WaveView): void {
    const before = waves.get(n);
    waves.set(n, next);
    if (next.state === 'pending') return;
    if (!tty) {
      if (before?.state !== next.state) {
        const detail = ENDED_WAVE_STATES.includes(next.state) ? outcomeOf(next.counts) : countOf(next.size, 'device');
        println(io.stdout, `wave ${n}/${total} ${next.state}: ${detail}`);
      }
      return;
    }
    if (live && live.wave !== n) closeBar();
    if (before && ENDED_WAVE_STATES.includes(before.state) && !live) return; // already drawn finished
    live ??= { wave: n, progress: createProgress({ total: next.size, label: label(n, next), stream: io.stderr }) };
    live.progress.update(settledOf(next.counts), label(n, next));
    if (ENDED_WAVE_STATES.includes(next.state)) closeBar(next.state);
  }

  function showTarget(t: { deviceId: string; wave: number; state: TargetState; errorCode: string | null; reason: string | null }): void {
    if (targets.get(t.deviceId) === t.state) return;
    targets.set(t.deviceId, t.state);
    if (tty || !REPORTED_TARGET_STATES.includes(t.state)) return;
    const why = reasonOf(t);
    println(io.stdout, `wave ${t.wave} device ${t.deviceId}: ${t.state}${why ? ` (${why})` : ''}`);
  }

  function showRolloutState(state: string, why: string): void {
    if (state === rolloutState) return;
    const first = rolloutState === '';
    rolloutState = state;
    if (first) return; // the header says it
    if (!tty) return println(io.stdout, `rollout ${state}${why ? `: ${why}` : ''}`);
    // A terminal shows a pause on the live bar and the end in the summary.
    const wave = live && waves.get(live.wave);
    if (live && wave) live.progress.update(settledOf(wave.counts), label(live.wave, wave));
  }

  function sync(rollout: RolloutDetailJson): void {
    total = rollout.waves.length;
    if (!started) {
      started = true;
      println(io.stdout, `rollout ${rollout.id}: ${rolloutVersion(rollout)} to ${countOf(rollout.counts.total, 'device')} in ${countOf(total, 'wave')}, ${rollout.state}`);
      for (const t of rollout.targets) targets.set(t.deviceId, t.state);
    }
    showRolloutState(rollout.state, reasonOf(rollout));
    for (const w of rollout.waves) {
      const known = waves.get(w.number);
      if (known && known.state === w.state && settledOf(known.counts) === settledOf(w.counts)) continue;
      showWave(w.number, { state: w.state, size: w.size, counts: w.counts });
    }
    for (const t of rollout.targets) showTarget(t);
  }

  return {
    sync,
    apply(event) {
      switch (event.name) {
        case 'rollout.state':
          return showRolloutState(event.data.state, reasonOf(event.data));
        case 'rollout.wave': {
          const { wave, waves: count, state, size, counts } = event.data;
          total = count;
          return showWave(wave, { state, size, counts });
        }
        case 'rollout.target': {
          const known = waves.get(event.data.wave);
          if (known) showWave(event.data.wave, { ...known, counts: event.data.counts });
          return showTarget(event.data);
        }
      }
    },
    finish(rollout) {
      sync(rollout);
      closeBar(rollout.state);
      const why = reasonOf(rollout);
      const outcome = rollout.counts.total === 0 ? 'no target devices' : `${outcomeOf(rollout.counts)} of ${countOf(rollout.counts.total, 'device')}`;
      println(io.stdout, `rollout ${rollout.id} ${rollout.state}: ${outcome}${why ? ` (${why})` : ''}`);
    },
  };
}
