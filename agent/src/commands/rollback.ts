import { DeployPhase, ResultCode } from '@fedfleet/proto';
import { AgentError, errorCodeOf } from '../errors.js';
import type { CommandHandler } from './command-handler.js';
import { type ModelStoreCommandOptions, requireStore } from './deploy.js';
import { storeFields } from './deploy-report.js';

/**
 * `rollback` (fleet.proto RollbackModel): put back the version that served before `from_version_id`, or end its
 * shadow run. Idempotent: a device that neither serves nor shadows it changes nothing and still answers ROLLED_BACK
 * (with what it serves) and DONE, so a repeated or late rollback settles.
 */
export function rollbackHandler(options: ModelStoreCommandOptions): CommandHandler {
  return {
    exclusive: false,
    async run(ctx, command) {
      const rollback = command.rollback;
      if (!rollback?.fromVersionId) {
        await ctx.reply({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_BAD_COMMAND', reason: 'rollback without from_version_id' });
        return;
      }
      let store;
      try {
        store = requireStore(options);
      } catch (error) {
        await ctx.reply({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: errorCodeOf(error), reason: (error as Error).message });
        return;
      }
      const before = store.state;
      const from = [before.active, before.shadow].find((info) => info?.versionId === rollback.fromVersionId);
      const about = { rolloutId: rollback.rolloutId ?? '', commandId: ctx.commandId, modelId: from?.modelId ?? '', versionId: rollback.fromVersionId };
      await ctx.reply({ code: ResultCode.RESULT_CODE_ACCEPTED });
      try {
        const changed = await store.rollback(rollback.fromVersionId, rollback.reason || 'rollback requested by the hub');
        await ctx.publish('reply', {
          deployReport: {
            ...about, phase: DeployPhase.DEPLOY_PHASE_ROLLED_BACK, ...storeFields(store.state),
            reason: changed ? rollback.reason ?? '' : `${rollback.fromVersionId} was neither serving nor in shadow: nothing to roll back`,
          },
        });
        await ctx.reply({ code: ResultCode.RESULT_CODE_DONE });
      } catch (error) {
        const code = errorCodeOf(error);
        await ctx.publish('reply', { deployReport: { ...about, phase: DeployPhase.DEPLOY_PHASE_FAILED, ...storeFields(store.state), errorCode: code, reason: (error as Error).message } }).catch(() => {});
        throw error instanceof AgentError ? error : new AgentError('AGENT_ERR_MODEL_STORE', (error as Error).message, { cause: error });
      }
    },
  };
}
