/**
 * Quantization jobs (issue 9 items 2, 3 and 5), decorated as `hub.quantizations`: a model version made into a fully
 * int8 .tflite with activation ranges calibrated on the fleet (devices report statistics of their own data through
 * the commands capability, owner `quantize`, keyed by job id) or at the hub on an uploaded data set, then evaluated on
 * the fleet (fleet-evaluation.ts) unless the request opted out. A job moves calibrating → building → [evaluating →]
 * done | failed, each step committed before its event; fleet calibration ends when every asked device answered or at
 * the deadline, and fails with fewer valid reports than minDevices. The statistics live in memory only: a job the hub
 * finds calibrating or building at start was interrupted and is failed then; one it finds evaluating has its file
 * and ends done, its evaluation `interrupted`.
 */
import { randomUUID } from 'node:crypto';
import { shapeSize, type CalibrationStats, type FloatModel } from '@fedfleet/proto';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { DeviceCommands } from '../commands/device-commands.js';
import type { DatasetRegistry } from '../datasets/dataset-registry.js';
import { HubError } from '../errors.js';
import type { HubEvents } from '../events/hub-events.js';
import type { DeviceHolds } from '../fleet/device-holds.js';
import type { HubLogger } from '../logger.js';
import { modelRefOf } from '../models/model-ref.js';
import type { ModelRegistry } from '../models/model-registry.js';
import { TFLITE_MEDIA_TYPE } from '../models/tflite-export.js';
import { InFlight } from '../rounds/in-flight.js';
import type { Failure } from '../rounds/round-transitions.js';
import type { Store } from '../store/store.js';
import { quantizableModel } from './quantizable-model.js';
import { createCalibrationReplies, type CalibrationAnswer } from './calibration-replies.js';
import { collectDatasetStats } from './dataset-calibration.js';
import { calibrateCommand, cancelAsked, pickCalibrators, QUANTIZE_OWNER, type CalibratorDeps } from './fleet-calibration.js';
import { createFleetEvalRepo, type EvalDeviceRecord, type FleetEvalRepo } from './fleet-eval-repo.js';
import { FleetEvaluation, type EvalStart } from './fleet-evaluation.js';
import { buildInt8Tflite } from './int8-build.js';
import { createQuantizationRepo, type CalibrationDeviceRecord, type QuantizationRecord, type QuantizationRepo } from './quantization-repo.js';
import { evaluateSelectorOf, parseCalibrate, quantizationConfigOf, type QuantizationRequest } from './quantization-request.js';
import { isFinished } from './quantization-state.js';
import './quantization-events.js';

/** How long a closing hub waits for a build in flight before the store closes. */
export const CLOSE_DRAIN_MS = 5000;

export interface QuantizationJobsDeps extends Omit<CalibratorDeps, 'busyDevices'> {
  /**
   * The hub's one notion of busy devices (rounds register theirs there). The jobs register the devices they hold
   * (calibrating, evaluating) and pick through it, so neither side gives a device work while the other holds it.
   */
  holds: DeviceHolds;
  store: Store;
  registry: ModelRegistry;
  datasets: DatasetRegistry;
  commands: DeviceCommands;
  audit: AuditLog;
  events: HubEvents;
  clock: Clock;
  log: HubLogger;
}

/** What a running job keeps beside its row: the model it calibrates, accepted statistics, its deadline timer. */
interface Runtime {
  model: FloatModel;
  modelName: string;
  stats: Map<string, CalibrationStats>;
  timer?: TimerHandle;
}

export class QuantizationJobs {
  readonly repo: QuantizationRepo;
  private readonly evalRepo: FleetEvalRepo;
  private readonly evaluation: FleetEvaluation;
  private readonly runtimes = new Map<string, Runtime>();
  private readonly work: InFlight;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly deps: QuantizationJobsDeps) {
    this.repo = createQuantizationRepo(deps.store.db);
    this.evalRepo = createFleetEvalRepo(deps.store.db);
    // Registered now, not at open: a round selecting before the hub is ready must already see a job's devices.
    this.unsubscribe.push(deps.holds.register('quantize', () => [...this.repo.busyDevices(), ...this.evalRepo.busyDevices()]));
    this.work = new InFlight((error) => deps.log.error({ err: error }, 'quantization task failed'));
    this.evaluation = new FleetEvaluation({
      ...deps, blobs: deps.store.blobs, repo: this.repo, evalRepo: this.evalRepo, busyDevices: () => this.busyDevices(), onDone: (jobId) => this.announceDone(jobId),
    });
  }

  /**
   * Routes calibration and evaluation replies here, fails the jobs a previous process left calibrating or building
   * and ends those it left evaluating (the hub is ready).
   */
  open(): void {
    const calibrationReplies = createCalibrationReplies({
      repo: this.repo, settle: (commandId) => void this.deps.commands.settle(commandId), runtime: (jobId) => this.runtimes.get(jobId),
      onAnswer: (answer) => this.onAnswer(answer), nowMs: () => this.deps.clock.now(),
    });
    this.unsubscribe.push(this.deps.commands.onReply(QUANTIZE_OWNER, (reply, sent) =>
      (sent.command.eval ? this.evaluation.onReply : calibrationReplies)(reply, sent)));
    for (const job of this.repo.unfinished()) {
      this.fail(job.id, { code: 'HUB_ERR_QUANTIZATION_INTERRUPTED', message: `the hub stopped while the job was ${job.state}; start a new job` });
    }
    this.evaluation.interruptLeftOver();
  }

  /** Stops intake and timers, waits (bounded) for a build in flight; jobs left unfinished are ended at the next start. */
  async close(): Promise<void> {
    this.work.stop();
    this.evaluation.close();
    for (const off of this.unsubscribe.splice(0)) off();
    for (const rt of this.runtimes.values()) if (rt.timer) this.deps.clock.clearTimer(rt.timer);
    this.runtimes.clear();
    await this.work.drain(CLOSE_DRAIN_MS, this.deps.clock);
  }

  /**
   * Validates the request, stores the job (audit-logged as `actor`) and starts calibrating. Refuses at once, storing
   * nothing: an unknown model, version or data set (404), a layer the int8 .tflite cannot express
   * (HUB_ERR_EXPORT_UNSUPPORTED), a data set that does not fit the model, too few devices that can calibrate now.
   */
  async start(request: QuantizationRequest, actor = 'admin'): Promise<QuantizationRecord> {
    const { registry, datasets, store, clock, log } = this.deps;
    const version = registry.resolveVersion(request.model, request.version);
    const model = registry.getModel(version.modelId);
    const config = quantizationConfigOf(request);
    const choice = parseCalibrate(request.calibrate);
    const evalSelector = evaluateSelectorOf(request.evaluate, choice, config);
    const dataset = choice.source === 'dataset' ? datasets.get(choice.dataset) : undefined;
    const floatModel = quantizableModel(await registry.loadContent(version.id), `version ${version.version} of ${model.name}`);
    if (dataset && shapeSize(dataset.inputShape) !== shapeSize(floatModel.inputShape)) {
      throw new HubError('HUB_ERR_QUANTIZATION_BAD_REQUEST', {
        message: `data set ${dataset.name} has examples of shape ${JSON.stringify(dataset.inputShape)}, model ${model.name} takes ${JSON.stringify(model.inputShape)}`,
      });
    }
    const id = randomUUID();
    const modelRef = dataset ? undefined : await modelRefOf({ registry, blobs: store.blobs }, version.id, 'fp32');
    // Picked after the last await: nothing can take these devices between the pick and the insert.
    const asked = dataset ? [] : pickCalibrators({ ...this.deps, busyDevices: () => this.busyDevices() }, config, Number.parseInt(id.slice(0, 8), 16))
      .map((device) => ({ deviceId: device.id, commandId: randomUUID() }));
    const nowMs = clock.now();
    const deadlineAtMs = dataset ? null : nowMs + config.deadlineSec * 1000;
    store.transaction(() => {
      this.repo.insert({
        id, modelId: model.id, versionId: version.id, calibration: choice.source, datasetId: dataset?.id ?? null, config, evalSelector, deadlineAtMs, nowMs,
      });
      for (const a of asked) this.repo.insertDevice(id, a.deviceId, a.commandId, nowMs);
      this.deps.audit.record({
        actor, action: 'quantization.started', target: id,
        details: { model: model.name, version: version.version, calibrate: request.calibrate, ...config, evaluate: evalSelector === null ? null : { selector: evalSelector } },
      });
    });
    const rt: Runtime = { model: floatModel, modelName: model.name, stats: new Map() };
    this.runtimes.set(id, rt);
    const job = this.repo.job(id)!;
    log.info({ jobId: id, model: model.name, version: version.version, calibrate: request.calibrate, devices: asked.length }, 'quantization started');
    this.deps.events.emit('quantization.started', {
      ...this.progress(job), jobId: id, modelId: model.id, versionId: version.id, version: version.version, calibration: choice.source, at: this.iso(),
    });
    if (dataset) {
      this.work.spawn(() => this.calibrateOnDataset(id, dataset.id));
    } else {
      rt.timer = clock.setTimeout(() => this.finishCalibration(id), deadlineAtMs! - nowMs);
      await Promise.all(asked.map((a) => this.deps.commands.send({
        owner: QUANTIZE_OWNER, key: id, deviceId: a.deviceId, command: calibrateCommand(a.commandId, id, modelRef!, deadlineAtMs!, config),
      })));
    }
    return job;
  }

  /** @throws HubError HUB_ERR_QUANTIZATION_NOT_FOUND */
  get(id: string): QuantizationRecord {
    const job = this.repo.job(id);
    if (!job) throw new HubError('HUB_ERR_QUANTIZATION_NOT_FOUND', { message: `no quantization ${JSON.stringify(id)}` });
    return job;
  }

  /** The devices a job asked, with what became of each. */
  devices(id: string): CalibrationDeviceRecord[] {
    return this.repo.devices(this.get(id).id);
  }

  /** The devices a job asked to evaluate its int8 file, with what each answered. */
  evalDevices(id: string): EvalDeviceRecord[] {
    return this.evalRepo.devices(this.get(id).id);
  }

  /** Jobs of a version, newest first. */
  listForVersion(versionId: string): QuantizationRecord[] {
    return this.repo.ofVersion(versionId);
  }

  /** The version's most recently finished done job: its artifact is the version's int8 .tflite. */
  latestDone(versionId: string): QuantizationRecord | undefined {
    return this.repo.latestDone(versionId);
  }

  private onAnswer(answer: CalibrationAnswer): void {
    const { jobId, deviceId, state, reasonCode, reason } = answer;
    const job = this.repo.job(jobId)!;
    this.deps.log.info({ jobId, deviceId, state, reasonCode, reason }, 'calibration answer');
    this.deps.events.emit('quantization.device-reported', {
      ...this.progress(job), jobId, deviceId, accepted: state === 'reported', state, code: reasonCode, reason, at: this.iso(),
    });
    if (!this.repo.devices(jobId).some((d) => d.state === 'asked')) this.finishCalibration(jobId);
  }

  /** Every asked device answered, or the deadline passed: build with the valid reports, or fail with too few. */
  private finishCalibration(jobId: string): void {
    const job = this.repo.job(jobId);
    const rt = this.runtimes.get(jobId);
    if (!this.work.open || job?.state !== 'calibrating' || !rt) return;
    const valid = [...rt.stats.values()];
    if (valid.length < job.minDevices) {
      return this.fail(jobId, { code: 'HUB_ERR_QUANTIZATION_TOO_FEW_REPORTS', message: `${valid.length} valid calibration reports, ${job.minDevices} needed` });
    }
    this.startBuilding(jobId);
    this.work.spawn(() => this.build(jobId, valid));
  }

  private async calibrateOnDataset(jobId: string, datasetId: string): Promise<void> {
    const job = this.repo.job(jobId)!;
    const rt = this.runtimes.get(jobId);
    if (!rt) return;
    try {
      const stats = await collectDatasetStats(rt.model, this.deps.datasets.load(datasetId), {
        maxExamples: job.maxExamplesPerDevice, bins: job.histogramBins, shouldStop: () => !this.work.open || this.repo.job(jobId)?.state !== 'calibrating',
      });
      if (!stats || !this.work.open) return;
      this.startBuilding(jobId);
      await this.build(jobId, [stats]);
    } catch (error) {
      if (!this.work.open) return;
      this.fail(jobId, { code: 'HUB_ERR_QUANTIZATION_BUILD_FAILED', message: `calibrating on the data set failed: ${(error as Error).message}` });
    }
  }

  /**
   * Merge, ranges, int8 graph, .tflite, blob store; then the fleet evaluation of the file, or done. A closing hub
   * records nothing: the job fails at the next start.
   */
  private async build(jobId: string, statistics: CalibrationStats[]): Promise<void> {
    const job = this.repo.job(jobId)!;
    const rt = this.runtimes.get(jobId);
    const building = () => this.work.open && this.repo.job(jobId)?.state === 'building';
    if (!rt || !building()) return;
    let evaluation: EvalStart | undefined;
    try {
      // Named as the float export names its file; the job is found from the file's sha256 (GET /v1/quantizations).
      const built = buildInt8Tflite(rt.model, statistics, {
        percentile: job.percentile, bins: job.histogramBins, description: `fedfleet ${rt.modelName} v${job.version} int8`,
      });
      const artifact = await this.deps.store.blobs.put(built.tflite, TFLITE_MEDIA_TYPE);
      const model = job.evaluate ? await this.evaluation.modelOf(job, artifact.sha256) : undefined;
      if (!building()) return;
      const nowMs = this.deps.clock.now();
      // Devices are picked in the transaction that moves the job on: nothing can take them between pick and insert.
      evaluation = this.deps.store.transaction(() => {
        this.repo.setResult(jobId, { exampleCount: built.exampleCount, ranges: built.ranges, artifact }, nowMs);
        if (model) return this.evaluation.begin(this.repo.job(jobId)!, model, nowMs);
        this.repo.move(jobId, 'done', nowMs);
        return undefined;
      });
      this.runtimes.delete(jobId);
      this.deps.log.info({ jobId, sha256: artifact.sha256, sizeBytes: artifact.sizeBytes, examples: built.exampleCount }, 'int8 model built');
    } catch (error) {
      if (!building()) return;
      return this.fail(jobId, { code: 'HUB_ERR_QUANTIZATION_BUILD_FAILED', message: `building the int8 model failed: ${(error as Error).message}` });
    }
    if (evaluation) await this.evaluation.launch(evaluation);
    else this.announceDone(jobId);
  }

  /** A job was moved to done (committed): its `quantization.completed`. */
  private announceDone(jobId: string): void {
    const done = this.repo.job(jobId)!;
    this.deps.log.info({ jobId, sha256: done.artifact?.sha256, fleetEval: done.fleetEval?.state }, 'quantization done');
    this.deps.events.emit('quantization.completed', {
      ...this.progress(done), jobId, versionId: done.versionId, exampleCount: done.exampleCount, sha256: done.artifact?.sha256 ?? '',
      sizeBytes: done.artifact?.sizeBytes ?? 0, at: this.iso(),
    });
  }

  /** Devices a round, a calibrating job or an evaluating job holds now. */
  private busyDevices(): Set<string> {
    return this.deps.holds.busy();
  }

  /** Leaves calibrating for building: devices still asked are cancelled (and told so), their commands settled. */
  private startBuilding(jobId: string): void {
    this.closeCalibration(jobId, 'calibration closed before this device reported', (nowMs) => this.repo.move(jobId, 'building', nowMs));
  }

  /** Fails a job that has not finished, with a coded reason; devices still asked are told to stop. */
  private fail(jobId: string, failure: Failure): void {
    const job = this.repo.job(jobId);
    if (!job || isFinished(job.state)) return;
    this.closeCalibration(jobId, failure.message, (nowMs) => this.repo.move(jobId, 'failed', nowMs, failure));
    this.runtimes.delete(jobId);
    const failed = this.repo.job(jobId)!;
    this.deps.log.warn({ jobId, code: failure.code, reason: failure.message }, 'quantization failed');
    this.deps.events.emit('quantization.failed', {
      ...this.progress(failed), jobId, versionId: failed.versionId, errorCode: failure.code, error: failure.message, at: this.iso(),
    });
  }

  /** One transaction: devices still asked become cancelled, then `move`; after it, their commands are settled and cancelled. */
  private closeCalibration(jobId: string, reason: string, move: (nowMs: number) => void): void {
    const rt = this.runtimes.get(jobId);
    if (rt?.timer) this.deps.clock.clearTimer(rt.timer);
    const nowMs = this.deps.clock.now();
    const pending = this.deps.store.transaction(() => {
      const asked = this.repo.devices(jobId).filter((d) => d.state === 'asked');
      for (const d of asked) this.repo.settleDevice(jobId, d.deviceId, 'cancelled', { reason }, nowMs);
      move(nowMs);
      return asked;
    });
    cancelAsked(this.deps.commands, jobId, pending, reason);
  }

  private progress(job: QuantizationRecord) {
    return { devicesAsked: job.devicesAsked, devicesReported: job.devicesReported, devicesRejected: job.devicesRejected };
  }

  private iso(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
