import { ResultCode } from '@fedfleet/proto';
import type { DataSource } from '../data/index.js';
import { AgentError } from '../errors.js';
import { evaluate, initBackend } from '../ml/index.js';
import type { CommandHandler } from './command-handler.js';
import { loadModelArtifact } from './train.js';

/** Federated evaluation (DESIGN §4): a model version scored on this device's held-out data. */
export function evaluateHandler(options: { dataSource: DataSource | undefined }): CommandHandler {
  return {
    exclusive: false,
    async run(ctx, command) {
      const task = command.eval;
      if (!task?.model?.sha256) throw new AgentError('AGENT_ERR_BAD_COMMAND', 'eval task without a model');
      if (!options.dataSource) {
        await ctx.reply({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_NO_DATA', reason: 'no local data', roundId: task.roundId ?? '' });
        return;
      }
      const model = await loadModelArtifact(ctx, task.model);
      await initBackend();
      const test = options.dataSource.test();
      const result = await evaluate({ topologyJson: model.topologyJson, weights: model.weights, data: test });
      await ctx.publish('reply', {
        evalResult: {
          roundId: task.roundId ?? '', commandId: ctx.commandId, versionId: task.model.versionId ?? '',
          exampleCount: result.count, loss: result.loss, accuracy: result.accuracy,
        },
      });
      await ctx.reply({ code: ResultCode.RESULT_CODE_DONE, roundId: task.roundId ?? '' });
    },
  };
}
