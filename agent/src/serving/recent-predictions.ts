/** What the shadow (challenger) run on the same input came to, once it ran. */
export interface ShadowOutcome {
  /** The challenger version, so a label is not counted into a later shadow run. */
  versionId: string;
  state: 'pending' | 'done' | 'failed';
  classIndex?: number;
  /** A label that arrived while the challenger was still pending: counted when it finishes. */
  pendingLabel?: number;
}

/** A prediction kept until its true label arrives (POST /feedback) or it ages out. */
export interface RecentPrediction {
  versionId: string;
  numClasses: number;
  classIndex: number;
  shadow?: ShadowOutcome;
}

export const DEFAULT_RECENT_PREDICTIONS = 10_000;

/**
 * The last `capacity` unlabelled predictions by requestId, oldest evicted first (a Map iterates in insertion
 * order). A prediction leaves when it is labelled, so a second label for it is refused rather than counted twice.
 * Memory is bounded whatever the request rate: a label for an evicted prediction is simply too late.
 */
export class RecentPredictions {
  private readonly entries = new Map<string, RecentPrediction>();

  constructor(private readonly capacity = DEFAULT_RECENT_PREDICTIONS) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  add(requestId: string, prediction: RecentPrediction): void {
    this.entries.delete(requestId);
    this.entries.set(requestId, prediction);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Removes and returns the prediction (undefined = unknown, evicted or already labelled). */
  take(requestId: string): RecentPrediction | undefined {
    const prediction = this.entries.get(requestId);
    this.entries.delete(requestId);
    return prediction;
  }

  peek(requestId: string): RecentPrediction | undefined {
    return this.entries.get(requestId);
  }
}
