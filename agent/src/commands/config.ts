import { ResultCode } from '@fedfleet/proto';
import type { CommandHandler } from './command-handler.js';

/** Heartbeat periods the agent accepts, in seconds: the same bounds as its `--heartbeat-sec` flag. */
export const HEARTBEAT_SEC_RANGE = { min: 1, max: 3600 } as const;

/**
 * Applies a ConfigUpdate (heartbeat period) through the callback the agent provides. 0 leaves the period as it is;
 * a period outside {@link HEARTBEAT_SEC_RANGE} is refused (Node.js would turn a timer above 2^31 − 1 ms into 1 ms).
 */
export function configHandler(apply: (config: { heartbeatSec?: number }) => void): CommandHandler {
  return {
    exclusive: false,
    async run(ctx, command) {
      const heartbeatSec = command.config?.heartbeatSec ?? 0;
      if (heartbeatSec !== 0 && (heartbeatSec < HEARTBEAT_SEC_RANGE.min || heartbeatSec > HEARTBEAT_SEC_RANGE.max)) {
        await ctx.reply({
          code: ResultCode.RESULT_CODE_REFUSED,
          errorCode: 'AGENT_ERR_BAD_COMMAND',
          reason: `heartbeatSec ${heartbeatSec} outside ${HEARTBEAT_SEC_RANGE.min}..${HEARTBEAT_SEC_RANGE.max}`,
        });
        return;
      }
      apply(heartbeatSec > 0 ? { heartbeatSec } : {});
      await ctx.reply({ code: ResultCode.RESULT_CODE_DONE });
    },
  };
}
