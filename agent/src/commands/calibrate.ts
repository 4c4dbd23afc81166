import {
  MAX_CALIBRATION_BINS, MIN_CALIBRATION_BINS, ResultCode, calibrationBins, calibrationStatsToWire,
  collectCalibrationStatsInSlices, floatModelFromTopology, type CalibrateTaskProps, type HardwareProfileProps,
} from '@fedfleet/proto';
import type { DataSource } from '../data/index.js';
import { AgentError } from '../errors.js';
import { yieldToEventLoop } from '../event-loop.js';
import type { CommandHandler } from './command-handler.js';
import { exampleRows } from './example-rows.js';
import { loadModelArtifact } from './train.js';

export interface CalibrateHandlerOptions {
  /** The device's local data; calibration reads its training split. */
  dataSource: DataSource | undefined;
  profile: HardwareProfileProps;
  /** Clock for deadline checks. Default Date.now. */
  now?: () => number;
  /** Examples per slice; cancellation and the deadline are checked between slices. Default {@link CALIBRATION_SLICE_EXAMPLES}. */
  sliceExamples?: number;
}

/** Examples run between two looks at the event loop, where a Cancel and MQTT keepalives get their turn. */
export const CALIBRATION_SLICE_EXAMPLES = 256;

/** Why this device does not calibrate, or undefined when it does. */
function refusalFor(task: CalibrateTaskProps, options: CalibrateHandlerOptions, nowMs: number): AgentError | undefined {
  // Calibration runs the float model; a microcontroller profile has integer kernels only.
  if (options.profile.int8Only) return new AgentError('AGENT_ERR_CANNOT_RUN_FLOAT', `profile ${options.profile.kind ?? '?'} cannot run the float model calibration needs`);
  if (!options.dataSource) return new AgentError('AGENT_ERR_NO_DATA');
  const bins = task.histogramBins ?? 0;
  if (bins !== 0 && (bins < MIN_CALIBRATION_BINS || bins > MAX_CALIBRATION_BINS)) {
    return new AgentError('AGENT_ERR_BAD_COMMAND', `histogramBins ${bins} outside ${MIN_CALIBRATION_BINS}..${MAX_CALIBRATION_BINS}`);
  }
  const deadlineAtMs = Number(task.deadlineAtMs ?? 0);
  if (deadlineAtMs && nowMs > deadlineAtMs) return new AgentError('AGENT_ERR_DEADLINE');
  return undefined;
}

/**
 * Federated calibration (DESIGN §5, issue 9 item 2): the device runs the float model over its own training examples
 * and reports per-tensor min/max and power-of-two aligned histograms in a CalibrationReport on `reply` — statistics
 * only, no example leaves the device. Not exclusive: CPU work like evaluation, it does not hold the device.
 */
export function calibrateHandler(options: CalibrateHandlerOptions): CommandHandler {
  const now = options.now ?? Date.now;
  const sliceExamples = options.sliceExamples ?? CALIBRATION_SLICE_EXAMPLES;
  return {
    exclusive: false,
    async run(ctx, command) {
      const task = command.calibrate;
      if (!task?.model?.sha256 || !task.jobId) throw new AgentError('AGENT_ERR_BAD_COMMAND', 'calibrate task without a job or a model');
      const refusal = refusalFor(task, options, now());
      if (refusal) {
        await ctx.reply({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: refusal.code, reason: refusal.message });
        return;
      }
      const artifact = await loadModelArtifact(ctx, task.model);
      const model = floatModelFromTopology(artifact.topologyJson, artifact.weights);
      const train = options.dataSource!.train();
      const count = task.maxExamples ? Math.min(task.maxExamples, train.count) : train.count;
      const deadlineAtMs = Number(task.deadlineAtMs ?? 0);
      const checkpoint = () => {
        ctx.signal.throwIfAborted();
        if (deadlineAtMs && now() > deadlineAtMs) throw new AgentError('AGENT_ERR_DEADLINE', 'during calibration');
      };
      checkpoint();
      const examples = (from: number, to: number) => exampleRows(train, model.inputShape, from, to);
      const stats = (await collectCalibrationStatsInSlices(model, examples, count, {
        bins: calibrationBins(task.histogramBins ?? 0),
        sliceExamples,
        between: async (done) => {
          ctx.progress({ phase: 'calibrate', fraction: count ? done / count : 1 });
          await yieldToEventLoop();
          checkpoint();
        },
      }))!;
      await ctx.publish('reply', {
        calibrationReport: {
          jobId: task.jobId, commandId: ctx.commandId, versionId: task.model.versionId ?? '',
          exampleCount: stats.exampleCount, tensors: calibrationStatsToWire(stats),
        },
      });
      await ctx.reply({ code: ResultCode.RESULT_CODE_DONE });
      ctx.log.info({ jobId: task.jobId, examples: stats.exampleCount, tensors: stats.tensors.length }, 'calibration reported');
    },
  };
}
