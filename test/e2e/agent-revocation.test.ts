/** Revoking a device disconnects the live agent at once, and the agent gives up instead of retrying forever. */
import { describe, expect, it } from 'vitest';
import type { AgentError } from '@fedfleet/agent';
import { startTestHub } from '../../hub/test/helpers/test-hub.js';
import { nextAgentEvent, recordHubEvents, startAgent } from './helpers/agent-harness.js';

describe('agent revocation', () => {
  it('is disconnected at once and stops with AGENT_ERR_CREDENTIALS_REJECTED', async () => {
    const testHub = await startTestHub();
    const log = recordHubEvents(testHub);
    const { agent } = await startAgent(testHub, { backoff: { initialMs: 10, maxMs: 40 } });
    const deviceId = agent.deviceId!;
    await log.next('device.online', { deviceId });
    const attempts: number[] = [];
    agent.on('reconnecting', ({ attempt }) => attempts.push(attempt));

    const offline = nextAgentEvent(agent, 'offline');
    const fatal = nextAgentEvent(agent, 'fatal');
    expect((await testHub.api('DELETE', `/v1/devices/${deviceId}`)).status).toBe(204);
    await offline; // the broker closed the live session; no heartbeat timeout was needed
    expect(await log.next('device.offline', { deviceId })).toMatchObject({ reason: 'revoked' });

    const [error] = (await fatal) as [AgentError];
    expect(error.code).toBe('AGENT_ERR_CREDENTIALS_REJECTED');
    expect(agent.online).toBe(false);
    // A reconnection found the credentials refused. With a 10-40 ms backoff, an agent that kept retrying would make
    // several more attempts within the next 200 ms.
    const attemptsAtFatal = attempts.length;
    expect(attemptsAtFatal).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(attempts.length).toBe(attemptsAtFatal);
    expect((await testHub.api('GET', `/v1/devices/${deviceId}`)).status).toBe(404);
    await expect(agent.stop()).resolves.toBeUndefined();
  });
});
