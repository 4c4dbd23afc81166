/**
 * Hysteresis with "sustained for" windows over a stream of samples, per key (rule + subject). A closed key opens
 * once every sample for `openForMs` was past `openAt`; an open key resolves once every sample for `resolveForMs`
 * was back past `resolveAt`. Between the two thresholds nothing changes, so a value that flaps around `openAt`
 * neither opens nor resolves over and over (the dead band of a Schmitt trigger). Pure: times come with the samples.
 */
export type Direction = 'above' | 'below';

export interface ThresholdSpec {
  /** `above`: high values are bad (CPU); `below`: low values are bad (free disk). */
  direction: Direction;
  openAt: number;
  resolveAt: number;
  openForMs: number;
  resolveForMs: number;
}

/** `opened` / `resolved`: the key changed; `seen`: open and the bad condition still holds; null: nothing to do. */
export type ThresholdVerdict = 'opened' | 'seen' | 'resolved' | null;

interface KeyState {
  open: boolean;
  /** Start of the current run of samples meeting the condition that would change the state. */
  sinceMs: number | null;
}

export class SustainedThreshold {
  readonly #states = new Map<string, KeyState>();

  /** Feeds one sample; says what changed. */
  sample(key: string, value: number, atMs: number, spec: ThresholdSpec): ThresholdVerdict {
    const state = this.#states.get(key) ?? { open: false, sinceMs: null };
    const bad = spec.direction === 'above' ? value >= spec.openAt : value < spec.openAt;
    const good = spec.direction === 'above' ? value < spec.resolveAt : value > spec.resolveAt;
    if (!state.open) {
      if (!bad) {
        this.#states.delete(key);
        return null;
      }
      state.sinceMs ??= atMs;
      this.#states.set(key, state);
      if (atMs - state.sinceMs < spec.openForMs) return null;
      this.#states.set(key, { open: true, sinceMs: null });
      return 'opened';
    }
    if (!good) {
      state.sinceMs = null;
      return bad ? 'seen' : null;
    }
    state.sinceMs ??= atMs;
    if (atMs - state.sinceMs < spec.resolveForMs) return null;
    this.#states.delete(key);
    return 'resolved';
  }

  /** Marks `key` open without a sample (an open alert found in the store on start). */
  markOpen(key: string): void {
    this.#states.set(key, { open: true, sinceMs: null });
  }

  /** Forgets `key` (its alert was resolved some other way). */
  forget(key: string): void {
    this.#states.delete(key);
  }

  /**
   * Drops the runs in progress of keys starting with `prefix` (a device went offline: samples before and after the
   * gap are not one sustained run). Open keys stay open.
   */
  interrupt(prefix: string): void {
    for (const [key, state] of this.#states) {
      if (!key.startsWith(prefix)) continue;
      if (state.open) state.sinceMs = null;
      else this.#states.delete(key);
    }
  }
}
