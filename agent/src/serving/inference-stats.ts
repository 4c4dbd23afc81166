import { nearestRank, type TelemetryProps } from '@fedfleet/proto';

/** What telemetry reports about serving (Telemetry.inference_count, inference_p50_ms, inference_p95_ms, local_accuracy, local_accuracy_examples). */
export interface InferenceStatsSnapshot {
  /** Inferences since the agent started: a counter, so the hub can derive a rate; never reset. */
  count: number;
  /** Nearest-rank percentiles of the latencies in the window; absent before the first inference. */
  p50Ms?: number;
  p95Ms?: number;
  /** Fraction correct over the labelled predictions in the window; absent before the first label. */
  accuracy?: number;
  /** Labelled predictions `accuracy` covers (Telemetry.local_accuracy_examples); absent with it. */
  accuracyExamples?: number;
}

export interface InferenceStatsOptions {
  /** How many of the most recent inferences the percentiles cover, and how many recent labels the accuracy. Default 1,024. */
  windowSize?: number;
}

export const DEFAULT_STATS_WINDOW = 1024;

/**
 * Serving statistics of one device. Latency percentiles and accuracy describe the recent past — the last
 * `windowSize` inferences and the last `windowSize` labelled ones — so they follow the model that serves now
 * rather than averaging over every version the device ever ran; {@link resetWindow} starts them afresh when the
 * serving version changes. Memory is fixed: two ring buffers.
 */
export class InferenceStats {
  private total = 0;
  private readonly latenciesMs: Float64Array;
  private latencyCount = 0;
  private readonly outcomes: Uint8Array;
  private outcomeCount = 0;
  private correctInWindow = 0;

  constructor(options: InferenceStatsOptions = {}) {
    const size = options.windowSize ?? DEFAULT_STATS_WINDOW;
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`windowSize must be a positive integer, got ${size}`);
    this.latenciesMs = new Float64Array(size);
    this.outcomes = new Uint8Array(size);
  }

  /** One inference; `correct` when its true label was known at once (simulated devices' local data). */
  record(latencyMs: number, correct?: boolean): void {
    this.total += 1;
    this.latenciesMs[this.latencyCount % this.latenciesMs.length] = latencyMs;
    this.latencyCount += 1;
    if (correct !== undefined) this.recordLabel(correct);
  }

  /** A true label that arrived after the inference (POST /feedback). */
  recordLabel(correct: boolean): void {
    const slot = this.outcomeCount % this.outcomes.length;
    // The ring is full: the outcome leaving the window leaves the running sum too.
    if (this.outcomeCount >= this.outcomes.length) this.correctInWindow -= this.outcomes[slot]!;
    this.outcomes[slot] = correct ? 1 : 0;
    this.correctInWindow += correct ? 1 : 0;
    this.outcomeCount += 1;
  }

  /** Empties the latency and accuracy windows (a new version serves); the inference counter keeps counting. */
  resetWindow(): void {
    this.latencyCount = 0;
    this.outcomeCount = 0;
    this.correctInWindow = 0;
  }

  snapshot(): InferenceStatsSnapshot {
    const snapshot: InferenceStatsSnapshot = { count: this.total };
    const latencies = Math.min(this.latencyCount, this.latenciesMs.length);
    if (latencies > 0) {
      const sorted = this.latenciesMs.slice(0, latencies).sort();
      snapshot.p50Ms = sorted[nearestRank(50, latencies) - 1]!;
      snapshot.p95Ms = sorted[nearestRank(95, latencies) - 1]!;
    }
    const labelled = Math.min(this.outcomeCount, this.outcomes.length);
    if (labelled > 0) {
      snapshot.accuracy = this.correctInWindow / labelled;
      snapshot.accuracyExamples = labelled;
    }
    return snapshot;
  }
}

/** The serving fields of a Telemetry message; the optional ones stay unset until there is something to report. */
export function inferenceTelemetry(snapshot: InferenceStatsSnapshot): TelemetryProps {
  const telemetry: TelemetryProps = { inferenceCount: snapshot.count };
  if (snapshot.p50Ms !== undefined) telemetry.inferenceP50Ms = snapshot.p50Ms;
  if (snapshot.p95Ms !== undefined) telemetry.inferenceP95Ms = snapshot.p95Ms;
  if (snapshot.accuracy !== undefined) telemetry.localAccuracy = snapshot.accuracy;
  if (snapshot.accuracyExamples !== undefined) telemetry.localAccuracyExamples = snapshot.accuracyExamples;
  return telemetry;
}
