/**
 * A quantization job's last step (issue 9 item 3: integer-only inference "runs in firmware-sim's microcontroller
 * profiles and on agents that are told to serve int8"): the int8 .tflite the job built is evaluated on the fleet's own
 * data. Every online device matching the job's evaluate selector that no round or other job holds — int8-only
 * microcontrollers included: they cannot calibrate a float model, but they run this one — gets an EvalTask whose
 * ModelRef is the stored file (format `tflite`, encoding INT8, its sha256), through the commands capability (owner
 * `quantize`, keyed by job id; at most `maxDevices`, a seeded sample). Each device answers once: its EvalResult, or a
 * refusal with its code (a microcontroller too small for the model says AGENT_ERR_MODEL_TOO_LARGE with the flash and
 * arena it lacks). The evaluation ends when every asked device answered or at the job's deadline (`deadlineSec`
 * again), and the job is done whatever came back — the file is good; the evaluation's own state says how it went.
 */
import { randomUUID } from 'node:crypto';
import type { CommandProps, ModelRefProps } from '@fedfleet/proto';
import type { Clock, TimerHandle } from '../clock.js';
import type { DeviceCommands, ReplyHandler } from '../commands/device-commands.js';
import type { HubEvents } from '../events/hub-events.js';
import type { HubLogger } from '../logger.js';
import { int8TfliteRefOf, type ModelRefDeps } from '../models/model-ref.js';
import { checkEvalResult } from '../rounds/eval-result-check.js';
import type { Store } from '../store/store.js';
import { endedWithout } from './calibration-replies.js';
import type { FleetEvalRepo } from './fleet-eval-repo.js';
import { cancelAsked, idleDevices, QUANTIZE_OWNER, sampleDevices, type CalibratorDeps } from './fleet-calibration.js';
import type { QuantizationRecord, QuantizationRepo } from './quantization-repo.js';
import './quantization-events.js';

export interface FleetEvaluationDeps extends CalibratorDeps, ModelRefDeps {
  repo: QuantizationRepo;
  evalRepo: FleetEvalRepo;
  store: Store;
  commands: DeviceCommands;
  events: HubEvents;
  clock: Clock;
  log: HubLogger;
  /** The job was moved to done (committed): announce it. */
  onDone: (jobId: string) => void;
}

/** What {@link FleetEvaluation.begin} committed: the devices to send the task to once the transaction is over. */
export interface EvalStart {
  jobId: string;
  asked: { deviceId: string; commandId: string }[];
  model: ModelRefProps;
  deadlineAtMs: number;
}

export class FleetEvaluation {
  private readonly timers = new Map<string, TimerHandle>();
  private stopped = false;

  constructor(private readonly deps: FleetEvaluationDeps) {}

  /** The EvalTask's model: the job's stored int8 .tflite, addressed by its sha256. */
  modelOf(job: QuantizationRecord, sha256: string): Promise<ModelRefProps> {
    return int8TfliteRefOf(this.deps, job.versionId, sha256);
  }

  /**
   * In the caller's transaction, with the job building and its artifact recorded: picks the devices and moves the job
   * to evaluating — or, when none can evaluate now, records `no-devices` and moves it to done.
   */
  begin(job: QuantizationRecord, model: ModelRefProps, nowMs: number): EvalStart {
    const { repo, evalRepo } = this.deps;
    const { eligible } = idleDevices(this.deps, job.evaluate?.selector ?? '', () => true);
    const devices = sampleDevices(eligible, job.maxDevices, Number.parseInt(job.id.slice(-8), 16) || 1);
    const deadlineAtMs = nowMs + job.deadlineSec * 1000;
    const asked = devices.map((d) => ({ deviceId: d.id, commandId: randomUUID() }));
    if (asked.length === 0) {
      repo.moveEval(job.id, 'no-devices', nowMs);
      repo.move(job.id, 'done', nowMs);
    } else {
      repo.moveEval(job.id, 'evaluating', nowMs, deadlineAtMs);
      repo.move(job.id, 'evaluating', nowMs);
      for (const a of asked) evalRepo.insertDevice(job.id, a.deviceId, a.commandId, nowMs);
    }
    return { jobId: job.id, asked, model, deadlineAtMs };
  }

  /** After the commit of {@link begin}: the deadline and the tasks, or the announcements when nobody was asked. */
  async launch(start: EvalStart): Promise<void> {
    const { jobId, asked, model, deadlineAtMs } = start;
    if (asked.length === 0) return this.announce(jobId);
    this.deps.log.info({ jobId, devices: asked.length, sha256: model.sha256 }, 'fleet evaluation of the int8 model started');
    this.timers.set(jobId, this.deps.clock.setTimeout(() => this.finish(jobId, false), deadlineAtMs - this.deps.clock.now()));
    await Promise.all(asked.map((a) => this.deps.commands.send({
      owner: QUANTIZE_OWNER, key: jobId, deviceId: a.deviceId, command: evalCommand(a.commandId, model, deadlineAtMs),
    })));
  }

  /** Replies to evaluation commands (the commands capability routes only the asked device's, while owed). */
  readonly onReply: ReplyHandler = (reply, sent) => {
    const { evalRepo, repo, clock } = this.deps;
    const jobId = sent.key;
    const { deviceId } = sent;
    const { commandId } = sent.command;
    if (this.stopped) return;
    if (repo.job(jobId)?.state !== 'evaluating') return void this.deps.commands.settle(commandId);
    const device = evalRepo.device(jobId, deviceId);
    if (device?.commandId !== commandId || device.state !== 'asked') return;
    let recorded: boolean;
    if (reply.kind === 'eval') {
      const verdict = checkEvalResult(reply.result);
      recorded = verdict.ok
        ? evalRepo.settleDevice(jobId, deviceId, 'evaluated', { exampleCount: verdict.metrics.examples, accuracy: verdict.metrics.accuracy, loss: verdict.metrics.loss }, clock.now())
        : evalRepo.settleDevice(jobId, deviceId, 'rejected', { reasonCode: 'HUB_ERR_EVAL_RESULT_INVALID', reason: verdict.reason }, clock.now());
    } else if (reply.kind === 'result') {
      const ended = endedWithout(reply.result, 'an eval result');
      if (!ended) return;
      // The code is kept beside the reason, so the reason is the device's own words when it gave any.
      const reason = reply.result.reason || ended.reason;
      recorded = evalRepo.settleDevice(jobId, deviceId, ended.state, { reasonCode: reply.result.errorCode || null, reason }, clock.now());
    } else {
      return; // progress, or a report that answers nothing here
    }
    this.deps.commands.settle(commandId);
    if (!recorded) return;
    this.deps.log.info({ jobId, deviceId, ...evalRepo.device(jobId, deviceId) }, 'int8 evaluation answer');
    if (!evalRepo.devices(jobId).some((d) => d.state === 'asked')) this.finish(jobId, false);
  };

  /**
   * Ends a job's evaluation — every device answered, the deadline passed, or (`interrupted`) the hub stopped during it
   * — and the job with it: devices still asked are cancelled (and told so), the job is done.
   */
  finish(jobId: string, interrupted: boolean): void {
    const { repo, evalRepo, store, clock, commands } = this.deps;
    if (this.stopped) return;
    const timer = this.timers.get(jobId);
    if (timer) this.deps.clock.clearTimer(timer);
    this.timers.delete(jobId);
    const reason = interrupted ? 'the hub stopped during the evaluation' : 'the evaluation ended before this device answered';
    const nowMs = clock.now();
    const pending = store.transaction(() => {
      if (repo.job(jobId)?.state !== 'evaluating') return undefined;
      const devices = evalRepo.devices(jobId);
      const asked = devices.filter((d) => d.state === 'asked');
      for (const d of asked) evalRepo.settleDevice(jobId, d.deviceId, 'cancelled', { reason }, nowMs);
      repo.moveEval(jobId, interrupted ? 'interrupted' : devices.some((d) => d.state === 'evaluated') ? 'done' : 'no-results', nowMs);
      repo.move(jobId, 'done', nowMs);
      return asked;
    });
    if (!pending) return;
    cancelAsked(commands, jobId, pending, reason);
    this.announce(jobId);
  }

  /** Jobs a previous process left evaluating: their file is stored, so they end done, the evaluation `interrupted`. */
  interruptLeftOver(): void {
    for (const job of this.deps.repo.evaluating()) this.finish(job.id, true);
  }

  /** Stops timers and reply handling (the hub closes); a job left evaluating is ended at the next start. */
  close(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) this.deps.clock.clearTimer(timer);
    this.timers.clear();
  }

  private announce(jobId: string): void {
    const job = this.deps.repo.job(jobId)!;
    const fleetEval = job.fleetEval!;
    const { refused, deadlineAt: _deadline, ...figures } = fleetEval;
    this.deps.log.info({ jobId, ...figures, refused: refused.length }, 'fleet evaluation of the int8 model ended');
    this.deps.events.emit('quantization.evaluated', {
      jobId, versionId: job.versionId, ...figures, refused: refused.length, at: new Date(this.deps.clock.now()).toISOString(),
    });
    this.deps.onDone(jobId);
  }
}

/** The EvalTask of one device: the same for every send of its command id (first send, re-sends on reconnect). */
function evalCommand(commandId: string, model: ModelRefProps, deadlineAtMs: number): CommandProps & { commandId: string } {
  return { commandId, eval: { model, deadlineAtMs } };
}
