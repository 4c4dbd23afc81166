import { ResultCode, type EvalTaskProps, type HardwareProfileProps } from '@fedfleet/proto';
import type { DataSource } from '../data/index.js';
import { AgentError } from '../errors.js';
import { yieldToEventLoop } from '../event-loop.js';
import { evaluate, initBackend, type EvaluationResult } from '../ml/index.js';
import type { BetweenSlices } from '../ml/evaluate.js';
import type { CommandContext, CommandHandler } from './command-handler.js';
import { deadlineSignal } from './deadline.js';
import { evaluateInt8GraphInSlices, loadInt8Model, modelRefKind, type Int8ModelAdmission } from './evaluate-int8.js';
import { loadModelArtifact } from './train.js';

export interface EvaluateHandlerOptions {
  dataSource: DataSource | undefined;
  /** The device's profile: an `int8Only` one has no float kernels and refuses float models. */
  profile?: HardwareProfileProps;
  /** Judges a decoded int8 model before it runs (firmware-sim: flash and arena of a microcontroller). */
  admitInt8Model?: Int8ModelAdmission;
  /** Clock for deadline checks, ms since the epoch. Default Date.now. */
  now?: () => number;
}

/** Why this device does not evaluate `task`'s model before fetching it, or undefined when it may. */
function refusalFor(task: EvalTaskProps, options: EvaluateHandlerOptions, nowMs: number): AgentError | undefined {
  if (!options.dataSource) return new AgentError('AGENT_ERR_NO_DATA');
  const kind = modelRefKind(task.model ?? {});
  if (kind !== 'tflite-int8' && options.profile?.int8Only) {
    return new AgentError('AGENT_ERR_CANNOT_RUN_FLOAT', `profile ${options.profile.kind ?? '?'} cannot run a float ${task.model?.format || 'tfjs-layers'} model; send its int8 .tflite`);
  }
  if (kind === 'tflite-float') return new AgentError('AGENT_ERR_BAD_MODEL', 'a float .tflite is not run here; send the tfjs-layers version or the int8 .tflite');
  const deadlineAtMs = Number(task.deadlineAtMs ?? 0);
  if (deadlineAtMs && nowMs > deadlineAtMs) return new AgentError('AGENT_ERR_DEADLINE');
  return undefined;
}

/**
 * Federated evaluation (DESIGN §4): a model version scored on this device's held-out data. A tfjs-layers model runs
 * in TensorFlow.js; a .tflite model (ModelRef format `tflite`, int8) runs integer-only (evaluate-int8.ts), on any
 * profile that is told to — the eval task's model says which. Past its deadline a task is refused before anything is
 * fetched; once started, the deadline stops the download and the evaluation (between slices) as it does training.
 */
export function evaluateHandler(options: EvaluateHandlerOptions): CommandHandler {
  const now = options.now ?? Date.now;
  return {
    exclusive: false,
    async run(ctx, command) {
      const task = command.eval;
      if (!task?.model?.sha256) throw new AgentError('AGENT_ERR_BAD_COMMAND', 'eval task without a model');
      const roundId = task.roundId ?? '';
      const refuse = (refusal: AgentError) => ctx.reply({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: refusal.code, reason: refusal.message, roundId });
      const refusal = refusalFor(task, options, now());
      if (refusal) return refuse(refusal);
      // The hub stops waiting for results at the deadline: fetching and evaluating stop there (AGENT_ERR_DEADLINE).
      const deadline = deadlineSignal(Number(task.deadlineAtMs ?? 0), now, 'the evaluation deadline passed during the task');
      const signal = AbortSignal.any([ctx.signal, deadline.signal]);
      const between: BetweenSlices = async (done, count) => {
        ctx.progress({ roundId, phase: 'eval', fraction: done / count });
        await yieldToEventLoop();
        signal.throwIfAborted();
      };
      const test = options.dataSource!.test();
      let result: EvaluationResult;
      try {
        if (modelRefKind(task.model) === 'tflite-int8') {
          const graph = await loadInt8Model(ctx, task.model, options.admitInt8Model, signal);
          if (graph instanceof AgentError) return await refuse(graph);
          result = await evaluateInt8GraphInSlices(graph, test, between);
        } else {
          result = await evaluateFloat(ctx, task, test, signal, between);
        }
      } catch (error) {
        // Stopped by the deadline: say so, not "cancelled".
        throw deadline.signal.aborted && !ctx.signal.aborted ? deadline.signal.reason : error;
      } finally {
        deadline.clear();
      }
      await ctx.publish('reply', {
        evalResult: {
          roundId, commandId: ctx.commandId, versionId: task.model.versionId ?? '',
          exampleCount: result.count, loss: result.loss, accuracy: result.accuracy,
        },
      });
      await ctx.reply({ code: ResultCode.RESULT_CODE_DONE, roundId });
    },
  };
}

async function evaluateFloat(
  ctx: CommandContext, task: EvalTaskProps, test: ReturnType<DataSource['test']>, signal: AbortSignal, between: BetweenSlices,
): Promise<EvaluationResult> {
  const model = await loadModelArtifact(ctx, task.model!, signal);
  await initBackend();
  return evaluate({ topologyJson: model.topologyJson, weights: model.weights, data: test, between });
}
