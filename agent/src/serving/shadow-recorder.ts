import type { ShadowStatsProps } from '@fedfleet/proto';
import type { Prediction } from '../model-store/types.js';

/**
 * The counts of a shadow run (issue 10 item 5, ShadowStats on the wire): the champion (the active version) and the
 * challenger (the shadow version) ran on the same inputs. A challenger that throws counts as an inference on which
 * it disagreed and, when labelled, was wrong: a version that cannot answer is worse than one that answers, and the
 * hub's "challenger not worse" rule must see it.
 */
export class ShadowRecorder {
  private inferences = 0;
  private agreements = 0;
  private labelled = 0;
  private championCorrect = 0;
  private challengerCorrect = 0;
  private failures = 0;

  /** Both answered on the same input; `label` when the true class was known at once (simulated local data). */
  record(champion: Prediction, challenger: Prediction, label?: number): void {
    this.inferences += 1;
    if (champion.classIndex === challenger.classIndex) this.agreements += 1;
    if (label !== undefined) this.recordLabel(champion.classIndex, challenger.classIndex, label);
  }

  /** The challenger threw on an input the champion answered. */
  recordFailure(champion: Prediction, label?: number): void {
    this.inferences += 1;
    this.failures += 1;
    if (label !== undefined) this.recordLabel(champion.classIndex, undefined, label);
  }

  /** A true label that arrived after both ran (POST /feedback); `challengerClass` undefined = the challenger failed. */
  recordLabel(championClass: number, challengerClass: number | undefined, label: number): void {
    this.labelled += 1;
    if (championClass === label) this.championCorrect += 1;
    if (challengerClass === label) this.challengerCorrect += 1;
  }

  /** Challenger runs that threw (logged by the service; not a wire field). */
  get challengerFailures(): number {
    return this.failures;
  }

  snapshot(): ShadowStatsProps {
    return {
      inferences: this.inferences,
      agreements: this.agreements,
      labelled: this.labelled,
      championCorrect: this.championCorrect,
      challengerCorrect: this.challengerCorrect,
    };
  }

  /** Zeroes every count: a new shadow run starts. */
  reset(): void {
    this.inferences = 0;
    this.agreements = 0;
    this.labelled = 0;
    this.championCorrect = 0;
    this.challengerCorrect = 0;
    this.failures = 0;
  }
}
