import { describe, expect, it, vi } from 'vitest';
import { ResultCode } from '@fedfleet/proto';
import type { CommandContext } from '../src/commands/command-handler.js';
import { configHandler } from '../src/commands/config.js';
import { silentLogger } from '../src/logger.js';

function context(): CommandContext & { replies: unknown[] } {
  const replies: unknown[] = [];
  return {
    replies,
    deviceId: 'dev-1',
    commandId: 'c1',
    log: silentLogger,
    signal: new AbortController().signal,
    reply: async (result) => void replies.push(result),
    progress: () => {},
    publish: async () => {},
    fetchArtifact: async () => new Uint8Array(),
  };
}

describe('config command', () => {
  it('applies a heartbeat period and answers DONE; 0 leaves it unchanged', async () => {
    const apply = vi.fn();
    const handler = configHandler(apply);
    const ctx = context();
    await handler.run(ctx, { commandId: 'c1', config: { heartbeatSec: 30 } });
    await handler.run(ctx, { commandId: 'c2', config: { heartbeatSec: 0 } });
    expect(apply.mock.calls).toEqual([[{ heartbeatSec: 30 }], [{}]]);
    expect(ctx.replies).toEqual([{ code: ResultCode.RESULT_CODE_DONE }, { code: ResultCode.RESULT_CODE_DONE }]);
  });

  it('refuses a period outside 1..3600 s (a timer above 2^31-1 ms would fire every millisecond)', async () => {
    const apply = vi.fn();
    const ctx = context();
    await configHandler(apply).run(ctx, { commandId: 'c1', config: { heartbeatSec: 2_200_000 } });
    expect(apply).not.toHaveBeenCalled();
    expect(ctx.replies).toEqual([expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_BAD_COMMAND' })]);
  });
});
