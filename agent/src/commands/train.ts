import {
  MAX_TASK_EPOCHS, ResultCode, TensorEncoding, decodeModelBlob, encodeWeights, hashSeed, mulberry32, paramCount, trainingMemoryBytes, type HardwareProfileProps, type ModelRefProps,
  type TrainTaskProps,
} from '@fedfleet/proto';
import type { DataSource } from '../data/index.js';
import { AgentError } from '../errors.js';
import { initBackend, trainLocal } from '../ml/index.js';
import { trainNumberProblems } from '../ml/train-options.js';
import type { CommandContext, CommandHandler } from './command-handler.js';
import { deadlineSignal } from './deadline.js';

export interface TrainHandlerOptions {
  dataSource: DataSource | undefined;
  profile: HardwareProfileProps;
  /** Runs after the task is accepted, before training (firmware-sim injects faults here). */
  beforeTrain?: (ctx: CommandContext) => Promise<void>;
  /** Clock for deadline checks. */
  now?: () => number;
}

/** Why this device cannot run a model of `params` parameters, or undefined when it can. */
export function refusalFor(profile: HardwareProfileProps, dataSource: DataSource | undefined, params: number): AgentError | undefined {
  if (!profile.canTrain) return new AgentError('AGENT_ERR_CANNOT_TRAIN', `profile ${profile.kind ?? '?'} has no training runtime`);
  if (!dataSource) return new AgentError('AGENT_ERR_NO_DATA');
  const needed = trainingMemoryBytes(params);
  if (profile.ramBytes && needed > profile.ramBytes) {
    return new AgentError('AGENT_ERR_MODEL_TOO_LARGE', `${params} parameters need ~${needed} bytes, the device has ${profile.ramBytes}`);
  }
  return undefined;
}

/**
 * The task's training numbers as trainLocal takes them. Proto3 sends 0 for "unset", which takes the default; any
 * other value is used as sent, so a NaN or negative learning rate is refused, not quietly replaced.
 * @throws AgentError AGENT_ERR_BAD_COMMAND naming every number out of range.
 */
export function trainTaskNumbers(task: TrainTaskProps) {
  const orDefault = (value: number | null | undefined, fallback: number) => (value === undefined || value === null || value === 0 ? fallback : value);
  const numbers = {
    epochs: orDefault(task.epochs, 1),
    batchSize: orDefault(task.batchSize, 10),
    learningRate: orDefault(task.learningRate, 0.01),
    proximalMu: task.proximalMu ?? 0,
    seed: Number(task.seed ?? 0) >>> 0,
    ...(task.maxExamples ? { maxExamples: task.maxExamples } : {}),
  };
  const problems = trainNumberProblems(numbers);
  if (numbers.epochs > MAX_TASK_EPOCHS) problems.push(`epochs must be at most ${MAX_TASK_EPOCHS}, got ${numbers.epochs}`);
  if (problems.length > 0) throw new AgentError('AGENT_ERR_BAD_COMMAND', problems.join('; '));
  return numbers;
}

export async function loadModelArtifact(ctx: CommandContext, ref: ModelRefProps, signal?: AbortSignal) {
  const bytes = await ctx.fetchArtifact({ sha256: ref.sha256 ?? '', sizeBytes: ref.sizeBytes ?? 0 }, signal);
  return decodeModelBlob(bytes);
}

/**
 * One device's share of a federated round (DESIGN §4): accept or refuse, fetch the base model, train locally
 * (FedProx when μ > 0), and upload the delta w_local − w_base in the requested encoding, int8 with stochastic
 * rounding so the hub's average stays unbiased.
 */
export function trainHandler(options: TrainHandlerOptions): CommandHandler {
  const now = options.now ?? Date.now;
  return {
    exclusive: true,
    async run(ctx, command) {
      const task = command.train;
      if (!task?.baseModel?.sha256 || !task.roundId) throw new AgentError('AGENT_ERR_BAD_COMMAND', 'train task without round or base model');
      const deadlineAtMs = Number(task.deadlineAtMs ?? 0);
      const numbers = (() => {
        try {
          return trainTaskNumbers(task);
        } catch (error) {
          return error as AgentError;
        }
      })();
      const refusal = refusalFor(options.profile, options.dataSource, task.baseModel.paramCount ?? 0)
        ?? (deadlineAtMs && now() > deadlineAtMs ? new AgentError('AGENT_ERR_DEADLINE') : undefined)
        ?? (numbers instanceof AgentError ? numbers : undefined);
      if (refusal || numbers instanceof AgentError) {
        const { code, message } = refusal ?? (numbers as AgentError);
        await ctx.reply({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: code, reason: message, roundId: task.roundId });
        return;
      }
      await ctx.reply({ code: ResultCode.RESULT_CODE_ACCEPTED, roundId: task.roundId });
      // The hub refuses an update after the deadline: fetching and training stop there (AGENT_ERR_DEADLINE).
      const deadline = deadlineSignal(deadlineAtMs, now, 'the round deadline passed during the task');
      const signal = AbortSignal.any([ctx.signal, deadline.signal]);
      let result: Awaited<ReturnType<typeof trainLocal>>;
      try {
        await options.beforeTrain?.(ctx);
        ctx.progress({ roundId: task.roundId, phase: 'fetch', fraction: 0 });
        const base = await loadModelArtifact(ctx, task.baseModel, signal);
        await initBackend();
        let lastReported = -1;
        result = await trainLocal({
          topologyJson: base.topologyJson,
          weights: base.weights,
          data: options.dataSource!,
          ...numbers,
          signal,
          onProgress: (p) => {
            if (p.epoch === lastReported) return;
            lastReported = p.epoch;
            ctx.progress({ roundId: task.roundId ?? '', phase: 'train', fraction: p.fraction, epoch: p.epoch, epochs: p.epochs, loss: p.loss });
          },
        });
      } catch (error) {
        // Stopped by the deadline: say so, not "cancelled".
        throw deadline.signal.aborted && !ctx.signal.aborted ? deadline.signal.reason : error;
      } finally {
        deadline.clear();
      }
      const encoding = task.updateEncoding || TensorEncoding.TENSOR_ENCODING_FP32;
      const rng = mulberry32(hashSeed(`${ctx.deviceId}/${task.roundId}`));
      const tensors = encodeWeights(result.delta, encoding, { stochastic: true, rng });
      // The update is handed to the session (QoS 1, kept across reconnects until the hub acknowledges it, i.e. has
      // stored it): the task's work is done and the device is free now. The hub may close the round on this update
      // and send the next round's task before the acknowledgement arrives — waiting for it, or for the DONE result
      // after it, would refuse that task as busy. DONE follows the update (QoS 1 keeps their order).
      ctx.publish('update', {
        weightUpdate: {
          roundId: task.roundId,
          commandId: ctx.commandId,
          baseVersionId: task.baseModel.versionId ?? '',
          exampleCount: result.exampleCount,
          tensors,
          metrics: result.metrics,
        },
      })
        .then(() => ctx.reply({ code: ResultCode.RESULT_CODE_DONE, roundId: task.roundId }))
        .catch((error: Error) => ctx.log.warn({ err: error.message, roundId: task.roundId }, 'update or DONE not delivered'));
      ctx.log.info({ roundId: task.roundId, examples: result.exampleCount, params: paramCount(result.delta), accuracyAfter: result.metrics.accuracyAfter }, 'update queued');
    },
  };
}
