/**
 * A device's baseline accuracy for a model version (issue 11 item 2): what its later accuracy is compared with to
 * call drift. The first self-test of the version on the device when there is one (measured at install, on the
 * device's held-out data, before any traffic could drift); else its first federated-evaluation result; else the
 * mean of its first {@link FEEDBACK_BASELINE_WINDOWS} feedback windows (each with enough labels). A sample of a
 * better source replaces a baseline from a worse one; a later sample of the same source never moves it (except
 * while the feedback mean is still being formed).
 */
import type { QualitySource } from './quality-events.js';

export interface BaselineRecord {
  source: QualitySource;
  accuracy: number;
  /** Feedback windows averaged into `accuracy` (0 unless source = feedback). */
  feedbackWindows: number;
  /** When the baseline was first set from its source. */
  atMs: number;
}

/** How many of the first feedback windows a feedback baseline averages. */
export const FEEDBACK_BASELINE_WINDOWS = 3;

const RANK: Readonly<Record<QualitySource, number>> = { 'self-test': 3, 'federated-eval': 2, feedback: 1 };

/** The baseline after `sample`, or undefined when the sample leaves it as it is. */
export function nextBaseline(
  current: BaselineRecord | undefined, sample: { source: QualitySource; accuracy: number; atMs: number },
): BaselineRecord | undefined {
  const fresh = { source: sample.source, accuracy: sample.accuracy, feedbackWindows: sample.source === 'feedback' ? 1 : 0, atMs: sample.atMs };
  if (!current || RANK[sample.source] > RANK[current.source]) return fresh;
  if (sample.source === 'feedback' && current.source === 'feedback' && current.feedbackWindows < FEEDBACK_BASELINE_WINDOWS) {
    const n = current.feedbackWindows;
    return { ...current, accuracy: (current.accuracy * n + sample.accuracy) / (n + 1), feedbackWindows: n + 1 };
  }
  return undefined;
}
