import { ResultCode, type EvalTaskProps, type HardwareProfileProps } from '@fedfleet/proto';
import type { DataSource } from '../data/index.js';
import { AgentError } from '../errors.js';
import { evaluate, initBackend, type EvaluationResult } from '../ml/index.js';
import type { CommandContext, CommandHandler } from './command-handler.js';
import { evaluateInt8Graph, loadInt8Model, modelRefKind, type Int8ModelAdmission } from './evaluate-int8.js';
import { loadModelArtifact } from './train.js';

export interface EvaluateHandlerOptions {
  dataSource: DataSource | undefined;
  /** The device's profile: an `int8Only` one has no float kernels and refuses float models. */
  profile?: HardwareProfileProps;
  /** Judges a decoded int8 model before it runs (firmware-sim: flash and arena of a microcontroller). */
  admitInt8Model?: Int8ModelAdmission;
}

/** Why this device does not evaluate `task`'s model before fetching it, or undefined when it may. */
function refusalFor(task: EvalTaskProps, options: EvaluateHandlerOptions): AgentError | undefined {
  if (!options.dataSource) return new AgentError('AGENT_ERR_NO_DATA');
  const kind = modelRefKind(task.model ?? {});
  if (kind !== 'tflite-int8' && options.profile?.int8Only) {
    return new AgentError('AGENT_ERR_CANNOT_RUN_FLOAT', `profile ${options.profile.kind ?? '?'} cannot run a float ${task.model?.format || 'tfjs-layers'} model; send its int8 .tflite`);
  }
  if (kind === 'tflite-float') return new AgentError('AGENT_ERR_BAD_MODEL', 'a float .tflite is not run here; send the tfjs-layers version or the int8 .tflite');
  return undefined;
}

/**
 * Federated evaluation (DESIGN §4): a model version scored on this device's held-out data. A tfjs-layers model runs
 * in TensorFlow.js; a .tflite model (ModelRef format `tflite`, int8) runs integer-only (evaluate-int8.ts), on any
 * profile that is told to — the eval task's model says which.
 */
export function evaluateHandler(options: EvaluateHandlerOptions): CommandHandler {
  return {
    exclusive: false,
    async run(ctx, command) {
      const task = command.eval;
      if (!task?.model?.sha256) throw new AgentError('AGENT_ERR_BAD_COMMAND', 'eval task without a model');
      const roundId = task.roundId ?? '';
      const refuse = (refusal: AgentError) => ctx.reply({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: refusal.code, reason: refusal.message, roundId });
      const refusal = refusalFor(task, options);
      if (refusal) return refuse(refusal);
      const test = options.dataSource!.test();
      let result: EvaluationResult;
      if (modelRefKind(task.model) === 'tflite-int8') {
        const graph = await loadInt8Model(ctx, task.model, options.admitInt8Model);
        if (graph instanceof AgentError) return refuse(graph);
        result = evaluateInt8Graph(graph, test);
      } else {
        result = await evaluateFloat(ctx, task, test);
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

async function evaluateFloat(ctx: CommandContext, task: EvalTaskProps, test: ReturnType<DataSource['test']>): Promise<EvaluationResult> {
  const model = await loadModelArtifact(ctx, task.model!);
  await initBackend();
  return evaluate({ topologyJson: model.topologyJson, weights: model.weights, data: test });
}
