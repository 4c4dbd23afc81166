import { randomUUID } from 'node:crypto';
import { AgentError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { checkModelInput } from '../model-store/model-input.js';
import type { LoadedModel, Prediction } from '../model-store/types.js';
import { InferenceStats } from './inference-stats.js';
import { InputMonitor, type InputMonitorOptions } from './input-monitor.js';
import { RecentPredictions, type RecentPrediction, type ShadowOutcome } from './recent-predictions.js';
import { ShadowRecorder } from './shadow-recorder.js';

/** Where the service finds the models it runs: the model store (active = champion, shadow = challenger). */
export interface ServingSource {
  active(): LoadedModel | undefined;
  shadow(): LoadedModel | undefined;
}

/** One answer: the champion's prediction, which version gave it, how long it took, and the id to label it by. */
export interface ServedPrediction extends Prediction {
  modelId: string;
  versionId: string;
  latencyMs: number;
  requestId: string;
}

export interface InferenceServiceOptions {
  /** Monotonic milliseconds for latencies; default performance.now. */
  clock?: () => number;
  /** Unlabelled predictions kept for feedback; default 10,000. */
  maxRecentPredictions?: number;
  /** Window of the latency percentiles and the accuracy; default 1,024. */
  statsWindow?: number;
  /** The input histograms (window and training baseline) telemetry reports; the window defaults to `statsWindow`. */
  inputs?: InputMonitorOptions;
  /** Challenger runs waiting behind the answers; beyond it an input is not shadowed (counted). Default 256. */
  maxPendingShadowRuns?: number;
  log?: Logger;
}

/**
 * The one path every inference on the device takes — the HTTP endpoint and simulated traffic alike — so that the
 * counts in telemetry and the shadow comparison cover everything the device answered. The champion (active
 * version) answers; when a challenger (shadow version) exists it runs on the same input afterwards, one run at a
 * time behind the answers, so it adds no latency to them and its errors never reach them (issue 10 item 5).
 */
export class InferenceService {
  readonly stats: InferenceStats;
  readonly shadowStats = new ShadowRecorder();
  /** Every input the champion answered, binned (input drift, issue 11 item 2). */
  readonly inputs: InputMonitor;
  private readonly clock: () => number;
  private readonly recent: RecentPredictions;
  private readonly maxPendingShadowRuns: number;
  private readonly log: Logger;
  private servingVersionId: string | undefined;
  private shadowVersionId: string | undefined;
  private shadowQueue: Promise<void> = Promise.resolve();
  private pendingShadowRuns = 0;
  private skippedShadowRuns = 0;

  constructor(private readonly source: ServingSource, options: InferenceServiceOptions = {}) {
    this.clock = options.clock ?? (() => performance.now());
    this.recent = new RecentPredictions(options.maxRecentPredictions);
    this.stats = new InferenceStats(options.statsWindow === undefined ? {} : { windowSize: options.statsWindow });
    this.inputs = new InputMonitor({ ...(options.statsWindow === undefined ? {} : { windowSize: options.statsWindow }), ...options.inputs });
    this.maxPendingShadowRuns = options.maxPendingShadowRuns ?? 256;
    this.log = options.log ?? silentLogger;
  }

  /** The version that would answer now, or undefined. */
  serving(): LoadedModel | undefined {
    return this.source.active();
  }

  /**
   * Classifies one input with the active version.
   * @throws AgentError AGENT_ERR_NO_MODEL without an active version, AGENT_ERR_BAD_INPUT for a wrong length or a
   *   value that is not finite (nothing is counted then).
   */
  async predict(input: Float32Array, options: { requestId?: string } = {}): Promise<ServedPrediction> {
    const model = this.requireModel();
    // Refused before anything runs or is counted.
    checkModelInput(model.manifest, input);
    return this.run(model, input, options.requestId ?? randomUUID());
  }

  /** Classifies several inputs with one version; every input is checked before any runs, so a bad one changes nothing. */
  async predictBatch(inputs: readonly Float32Array[]): Promise<ServedPrediction[]> {
    const model = this.requireModel();
    inputs.forEach((input, index) => checkModelInput(model.manifest, input, `inputs[${index}]: `));
    const answers: ServedPrediction[] = [];
    for (const input of inputs) answers.push(await this.run(model, input, randomUUID()));
    return answers;
  }

  /**
   * The true label of a recent prediction: counts the champion's labelled accuracy and, when the input was
   * shadowed, both accuracies of the shadow run. Each prediction is labelled at most once.
   * @returns false when the requestId is unknown, aged out or already labelled.
   * @throws AgentError AGENT_ERR_BAD_INPUT when `label` is not a class of the model that answered.
   */
  feedback(requestId: string, label: number): boolean {
    const prediction = this.recent.peek(requestId);
    if (!prediction) return false;
    if (!Number.isInteger(label) || label < 0 || label >= prediction.numClasses) {
      throw new AgentError('AGENT_ERR_BAD_INPUT', `label must be an integer class in [0, ${prediction.numClasses - 1}], got ${label}`);
    }
    this.recent.take(requestId);
    // A label for a version that no longer serves would blur the accuracy of the one that does.
    if (prediction.versionId === this.servingVersionId) this.stats.recordLabel(prediction.classIndex === label);
    const shadow = prediction.shadow;
    if (shadow && shadow.versionId === this.shadowVersionId) {
      if (shadow.state === 'pending') shadow.pendingLabel = label;
      else this.shadowStats.recordLabel(prediction.classIndex, shadow.classIndex, label);
    }
    return true;
  }

  /** Resolves when every challenger run queued so far has finished (tests, and a shadow report's final counts). */
  shadowIdle(): Promise<void> {
    return this.shadowQueue;
  }

  /** Inputs not shadowed because the challenger fell too far behind. */
  get skippedShadowInputs(): number {
    return this.skippedShadowRuns;
  }

  private requireModel(): LoadedModel {
    const model = this.source.active();
    if (!model) throw new AgentError('AGENT_ERR_NO_MODEL');
    return model;
  }

  private async run(model: LoadedModel, input: Float32Array, requestId: string): Promise<ServedPrediction> {
    const { modelId, versionId, numClasses } = model.manifest;
    if (versionId !== this.servingVersionId) {
      this.servingVersionId = versionId;
      this.stats.resetWindow();
    }
    const startMs = this.clock();
    const prediction = await model.predict(input);
    const latencyMs = this.clock() - startMs;
    this.stats.record(latencyMs);
    this.inputs.record(input);
    const recent: RecentPrediction = { versionId, numClasses, classIndex: prediction.classIndex };
    const challenger = this.source.shadow();
    if (challenger) this.queueShadowRun(challenger, input.slice(), prediction, recent);
    else this.shadowVersionId = undefined; // the run ended: a later one, even of the same version, starts at zero
    this.recent.add(requestId, recent);
    return { classIndex: prediction.classIndex, scores: prediction.scores, modelId, versionId, latencyMs, requestId };
  }

  private queueShadowRun(challenger: LoadedModel, input: Float32Array, champion: Prediction, recent: RecentPrediction): void {
    const versionId = challenger.manifest.versionId;
    if (versionId !== this.shadowVersionId) {
      this.shadowVersionId = versionId;
      this.shadowStats.reset();
    }
    if (this.pendingShadowRuns >= this.maxPendingShadowRuns) {
      this.skippedShadowRuns += 1;
      return;
    }
    this.pendingShadowRuns += 1;
    recent.shadow = { versionId, state: 'pending' };
    const outcome = recent.shadow;
    this.shadowQueue = this.shadowQueue
      // setImmediate: the caller's continuation (writing the answer) runs before the challenger starts.
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => this.runChallenger(challenger, input, champion, outcome))
      .finally(() => {
        this.pendingShadowRuns -= 1;
      });
  }

  private async runChallenger(challenger: LoadedModel, input: Float32Array, champion: Prediction, outcome: ShadowOutcome): Promise<void> {
    // The shadow run ended (or another began) while this input waited: it belongs to no run now.
    if (this.source.shadow() !== challenger || this.shadowVersionId !== outcome.versionId) return;
    try {
      const prediction = await challenger.predict(input);
      outcome.state = 'done';
      outcome.classIndex = prediction.classIndex;
      this.shadowStats.record(champion, prediction);
    } catch (error) {
      outcome.state = 'failed';
      this.shadowStats.recordFailure(champion);
      this.log.debug({ versionId: outcome.versionId, code: (error as AgentError).code, err: (error as Error).message }, 'challenger failed');
    }
    if (outcome.pendingLabel !== undefined) this.shadowStats.recordLabel(champion.classIndex, outcome.classIndex, outcome.pendingLabel);
  }
}
