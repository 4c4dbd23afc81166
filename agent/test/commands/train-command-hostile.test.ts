/**
 * A train command from a compromised broker or a replay (agent/docs/agent.md): numbers no campaign sends are refused
 * before the task is accepted or anything is fetched, and the task's deadline stops the work it bounds.
 */
import { MAX_TASK_EPOCHS, ResultCode, type CommandProps, type TrainTaskProps } from '@fedfleet/proto';
import { describe, expect, it } from 'vitest';
import type { DataSource } from '../../src/data/index.js';
import { trainHandler } from '../../src/commands/train.js';
import { fakeContext } from './fake-context.js';

const SHA = 'ab'.repeat(32);
const handler = trainHandler({ dataSource: {} as DataSource, profile: { canTrain: true, ramBytes: 1e9 } });
const trainCommand = (task: Partial<TrainTaskProps>): CommandProps => ({
  commandId: 'cmd-1', train: { roundId: 'r-1', baseModel: { sha256: SHA, sizeBytes: 100, paramCount: 10 }, ...task },
});

describe('train command, hostile numbers', () => {
  it.each<[string, Partial<TrainTaskProps>]>([
    ['a NaN learning rate (not quietly the default)', { learningRate: Number.NaN }],
    ['an infinite learning rate', { learningRate: Number.POSITIVE_INFINITY }],
    ['a negative learning rate', { learningRate: -0.5 }],
    ['a NaN proximal mu', { proximalMu: Number.NaN }],
    ['a negative proximal mu', { proximalMu: -1 }],
    ['1e9 epochs', { epochs: 1e9 }],
    [`${MAX_TASK_EPOCHS + 1} epochs`, { epochs: MAX_TASK_EPOCHS + 1 }],
  ])('refuses %s with AGENT_ERR_BAD_COMMAND before accepting or fetching', async (_name, task) => {
    const ctx = fakeContext();
    await handler.run(ctx, trainCommand(task));
    expect(ctx.replies).toEqual([expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_BAD_COMMAND', roundId: 'r-1' })]);
    expect(ctx.fetched).toEqual([]);
  });

  it('stops at the task deadline with AGENT_ERR_DEADLINE, even while the base model is still downloading', async () => {
    const ctx = fakeContext();
    let fetchSignal: AbortSignal | undefined;
    const stuck = {
      ...ctx,
      // A hub that never finishes the download: only the deadline can end it.
      fetchArtifact: (_ref: unknown, signal?: AbortSignal) => new Promise<Uint8Array>((_resolve, reject) => {
        fetchSignal = signal;
        signal?.addEventListener('abort', () => reject(signal.reason));
      }),
    };
    await expect(handler.run(stuck, trainCommand({ deadlineAtMs: Date.now() + 50 }))).rejects.toMatchObject({ code: 'AGENT_ERR_DEADLINE' });
    expect(ctx.replies.map((r) => r.code)).toEqual([ResultCode.RESULT_CODE_ACCEPTED]);
    expect(fetchSignal?.aborted).toBe(true);
  });
});
