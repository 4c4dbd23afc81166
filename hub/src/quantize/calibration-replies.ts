/**
 * The replies to calibration commands, routed here by the commands capability (owner `quantize`, key = job id; only
 * replies from the device a command was sent to, and only while it is owed). A device answers once: its first
 * CalibrationReport is accepted (its statistics kept for the merge) or rejected with a reason (report-check.ts),
 * or it ends the command without one (refused, failed, cancelled, or DONE with no report before it — MQTT keeps a
 * client's messages in order [MQTT-4.6.0]). Its command is settled then, so a repeat or a later report is not routed.
 */
import { ResultCode, type CalibrationStats, type CommandResultProps, type FloatModel } from '@fedfleet/proto';
import type { ReplyHandler } from '../commands/device-commands.js';
import type { QuantizationRepo } from './quantization-repo.js';
import type { CalibrationDeviceState } from './quantization-state.js';
import { checkCalibrationReport } from './report-check.js';

/** A device's answer, recorded (committed) before it is announced. */
export interface CalibrationAnswer {
  jobId: string;
  deviceId: string;
  state: Exclude<CalibrationDeviceState, 'asked' | 'cancelled'>;
  /** HUB_ERR_CALIBRATION_REPORT_INVALID for a rejected report, the device's AGENT_ERR_* when it gave one. */
  reasonCode: string | null;
  reason: string | null;
}

export interface CalibrationRepliesDeps {
  repo: QuantizationRepo;
  /** Settles a command at the commands capability. */
  settle: (commandId: string) => void;
  /** The running job's model and accepted statistics; undefined when the job no longer runs in this process. */
  runtime: (jobId: string) => { model: FloatModel; stats: Map<string, CalibrationStats> } | undefined;
  /** Called after an answer was recorded. */
  onAnswer: (answer: CalibrationAnswer) => void;
  nowMs: () => number;
}

/**
 * The device state a command result ends a task in without the answer it owes (`what`: a calibration report, an eval
 * result); undefined when it does not end it.
 */
export function endedWithout(result: CommandResultProps, what: string): { state: 'refused' | 'failed'; reason: string } | undefined {
  const detail = [result.errorCode, result.reason].filter(Boolean).join(': ');
  switch (result.code) {
    case ResultCode.RESULT_CODE_REFUSED:
      return { state: 'refused', reason: detail || 'refused' };
    case ResultCode.RESULT_CODE_FAILED:
      return { state: 'failed', reason: detail || 'failed' };
    case ResultCode.RESULT_CODE_CANCELLED:
      return { state: 'failed', reason: detail || 'cancelled on the device' };
    case ResultCode.RESULT_CODE_DONE:
      return { state: 'failed', reason: `done without ${what}` };
    default:
      return undefined; // accepted: the report is yet to come
  }
}

export function createCalibrationReplies(deps: CalibrationRepliesDeps): ReplyHandler {
  const { repo } = deps;
  return (reply, sent) => {
    const jobId = sent.key;
    const { deviceId } = sent;
    const { commandId } = sent.command;
    const job = repo.job(jobId);
    const rt = deps.runtime(jobId);
    if (job?.state !== 'calibrating' || !rt) return deps.settle(commandId);
    const device = repo.device(jobId, deviceId);
    if (device?.commandId !== commandId || device.state !== 'asked') return;

    let answer: Omit<CalibrationAnswer, 'jobId' | 'deviceId'>;
    let accepted: CalibrationStats | undefined;
    if (reply.kind === 'calibration') {
      const verdict = checkCalibrationReport(reply.report, { jobId, versionId: job.versionId, model: rt.model, maxExamples: job.maxExamplesPerDevice });
      if (verdict.ok) accepted = verdict.stats;
      answer = verdict.ok
        ? { state: 'reported', reasonCode: null, reason: null }
        : { state: 'rejected', reasonCode: 'HUB_ERR_CALIBRATION_REPORT_INVALID', reason: verdict.reason };
    } else if (reply.kind === 'result') {
      const ended = endedWithout(reply.result, 'a calibration report');
      if (!ended) return;
      answer = { state: ended.state, reasonCode: reply.result.errorCode || null, reason: ended.reason };
    } else {
      return; // progress, or an eval result that answers nothing here
    }
    deps.settle(commandId);
    const recorded = repo.settleDevice(jobId, deviceId, answer.state, { ...answer, exampleCount: accepted?.exampleCount ?? null }, deps.nowMs());
    if (!recorded) return;
    if (accepted) rt.stats.set(deviceId, accepted);
    deps.onAnswer({ jobId, deviceId, ...answer });
  };
}
