import { ResultCode } from '@fedfleet/proto';
import type { CommandHandler } from './command-handler.js';

/** Applies a ConfigUpdate (heartbeat period) through the callback the agent provides. */
export function configHandler(apply: (config: { heartbeatSec?: number }) => void): CommandHandler {
  return {
    exclusive: false,
    async run(ctx, command) {
      const heartbeatSec = command.config?.heartbeatSec ?? 0;
      apply(heartbeatSec > 0 ? { heartbeatSec } : {});
      await ctx.reply({ code: ResultCode.RESULT_CODE_DONE });
    },
  };
}
