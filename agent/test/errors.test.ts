/** One error registry for the whole agent: its data and ML layers throw AgentErrors with the registry's messages. */
import { describe, expect, it } from 'vitest';
import { AGENT_ERROR_CODES, AgentError, isAgentError, loadDiskDataSource, parsePartition } from '../src/ml/index.js';

describe('agent errors', () => {
  it('come from the data and ML layers as AgentErrors with the registry message', async () => {
    const missing: unknown = await loadDiskDataSource('/no/such/folder').then(() => undefined, (e: unknown) => e);
    expect(missing).toBeInstanceOf(AgentError);
    expect(isAgentError(missing)).toBe(true);
    expect(missing).toMatchObject({ code: 'AGENT_ERR_NO_DATA', message: expect.stringMatching(`^${AGENT_ERROR_CODES.AGENT_ERR_NO_DATA}: `) });
    expect(() => parsePartition('zipf')).toThrow(AgentError);
  });
});
