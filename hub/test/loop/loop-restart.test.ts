/**
 * A restarted hub picks the loop's runs up from the store: a campaign that ended while no engine followed it is
 * judged at start, and the rate limits survive (the cooldown counts from the stored action).
 */
import { describe, expect, it } from 'vitest';
import { startTestHub } from '../helpers/test-hub.js';
import { actionsOf, createPolicy, raiseDrift, settle, startLoopHub, waitForActions } from './loop-helpers.js';

describe('closed loop across restarts', () => {
  it('follows a run it started before the restart to its end, and keeps cooling down', async () => {
    const first = await startLoopHub();
    const { api, clock, dataDir } = { api: first.api, clock: first.clock, dataDir: first.testHub.dataDir };
    const policy = await createPolicy(api, { cooldownSec: 600 });
    raiseDrift(first.hub, first.group[0]!);
    const [started] = await waitForActions(api, policy.id, 1);
    const campaignId = started!.details.campaignId as string;
    await first.hub.close();

    // The campaign ends while no loop follows it (the switch is off on this hub).
    const unfollowed = await startTestHub({ dataDir, clock, config: { loopEnabled: false } });
    expect((await unfollowed.api('POST', `/v1/rounds/${campaignId}/cancel`)).status).toBe(200);
    await unfollowed.hub.close();

    const third = await startTestHub({ dataDir, clock });
    const [ended] = await waitForActions(third.api, policy.id, 2);
    expect(ended).toMatchObject({ kind: 'campaign-ended', runId: started!.runId, details: { campaignId, state: 'cancelled' } });
    expect((await third.api<{ running: unknown }>('GET', `/v1/loop-policies/${policy.id}`)).body.running).toBeNull();

    // Still within the stored cooldown: a new alert starts nothing.
    raiseDrift(third.hub, first.group[1]!, 'input-drift');
    await settle();
    expect(await actionsOf(third.api, policy.id)).toHaveLength(2);
  });
});
