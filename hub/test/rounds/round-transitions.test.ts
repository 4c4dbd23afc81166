/**
 * Every round and campaign state change goes through the tables of round-state.ts (STYLE 15): a change they do not
 * allow is HUB_ERR_ILLEGAL_TRANSITION and writes nothing; a failure is stored, listed and announced with its code.
 */
import { describe, expect, it } from 'vitest';
import { ResultCode } from '@fedfleet/proto';
import { isHubError } from '../../src/errors.js';
import type { HubEventMap } from '../../src/events/hub-events.js';
import { createRoundTransitions } from '../../src/rounds/round-transitions.js';
import { CAMPAIGN_STATES, ROUND_STATES, canCampaignTransition, canTransition } from '../../src/rounds/round-state.js';
import type { CampaignJson } from '../../src/rounds/schemas.js';
import { getCampaign, startCampaign, startRoundHub, waitForCampaign } from './round-helpers.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isHubError(error) ? error.code : `not a HubError: ${String(error)}`;
  }
  return undefined;
}

describe('round and campaign state tables', () => {
  it('allow exactly the life cycle of DESIGN §4', () => {
    const allowed = (can: (a: never, b: never) => boolean, states: readonly string[]) =>
      states.flatMap((from) => states.filter((to) => can(from as never, to as never)).map((to) => `${from}→${to}`));
    expect(allowed(canTransition, ROUND_STATES)).toEqual([
      'created→selecting', 'created→failed', 'selecting→training', 'selecting→failed', 'training→aggregating', 'training→failed',
      'aggregating→evaluating', 'aggregating→committed', 'aggregating→failed', 'evaluating→committed', 'evaluating→failed',
    ]);
    expect(allowed(canCampaignTransition, CAMPAIGN_STATES)).toEqual(['running→completed', 'running→failed', 'running→cancelled']);
  });

  it('stores a cancel with its codes, announces them, and refuses any change out of an ended state', async () => {
    const { api, testHub } = await startRoundHub({ listen: false });
    const { hub } = testHub;
    const seen: Array<HubEventMap['round.state'] | HubEventMap['campaign.state']> = [];
    hub.events.on('round.state', (e) => seen.push(e));
    hub.events.on('campaign.state', (e) => seen.push(e));
    // No device is enrolled yet: the round waits in selecting (a fleet may enroll after its campaign starts).
    const campaign = await startCampaign(api, { model: 'tiny', rounds: 2, clients: 1, minClients: 1, selectionTimeoutSec: 3600 });
    expect(campaign.rounds.map((r) => [r.state, r.errorCode])).toEqual([['selecting', null]]);

    expect((await api('POST', `/v1/rounds/${campaign.id}/cancel`)).status).toBe(200);
    const view = await getCampaign(api, campaign.id);
    expect([view.state, view.error, view.errorCode]).toEqual(['cancelled', 'cancelled by operator', 'HUB_ERR_CAMPAIGN_CANCELLED']);
    expect(view.rounds.map((r) => [r.state, r.error, r.errorCode])).toEqual([['failed', 'cancelled by operator', 'HUB_ERR_ROUND_CANCELLED']]);
    const listed = (await api<CampaignJson[]>('GET', '/v1/rounds')).body.find((c) => c.id === campaign.id)!;
    expect([listed.errorCode, listed.currentRound?.errorCode]).toEqual(['HUB_ERR_CAMPAIGN_CANCELLED', 'HUB_ERR_ROUND_CANCELLED']);
    expect(seen.map((e) => [e.state, e.errorCode])).toEqual([
      ['running', null], ['created', null], ['selecting', null], ['failed', 'HUB_ERR_ROUND_CANCELLED'], ['cancelled', 'HUB_ERR_CAMPAIGN_CANCELLED'],
    ]);

    const again = await api<{ error: { code: string } }>('POST', `/v1/rounds/${campaign.id}/cancel`);
    expect([again.status, again.body.error.code]).toEqual([409, 'HUB_ERR_CAMPAIGN_FINISHED']);

    const transitions = createRoundTransitions({ rounds: hub.coordinator.rounds, events: hub.events, clock: hub.clock });
    const roundId = view.rounds[0]!.id;
    const failure = { code: 'HUB_ERR_ROUND_TOO_FEW_UPDATES', message: 'x' } as const;
    expect(codeOf(() => transitions.moveRound(roundId, 'training'))).toBe('HUB_ERR_ILLEGAL_TRANSITION');
    expect(codeOf(() => transitions.moveRound(roundId, 'failed', failure))).toBe('HUB_ERR_ILLEGAL_TRANSITION');
    expect(codeOf(() => transitions.moveCampaign(campaign.id, 'running'))).toBe('HUB_ERR_ILLEGAL_TRANSITION');
    expect(codeOf(() => transitions.moveCampaign(campaign.id, 'completed'))).toBe('HUB_ERR_ILLEGAL_TRANSITION');
    const after = await getCampaign(api, campaign.id);
    expect([after.state, after.errorCode, after.rounds[0]!.state, after.rounds[0]!.errorCode, after.rounds[0]!.error])
      .toEqual(['cancelled', 'HUB_ERR_CAMPAIGN_CANCELLED', 'failed', 'HUB_ERR_ROUND_CANCELLED', 'cancelled by operator']);
  });

  it('fails a round that closed with too few updates with HUB_ERR_ROUND_TOO_FEW_UPDATES, and its campaign with it', async () => {
    const { api, enroll, online } = await startRoundHub();
    const device = await enroll('only');
    await online([device.deviceId]);
    const campaign = await startCampaign(api, { model: 'tiny', rounds: 2, clients: 1, overSelect: 1, minClients: 1, deadlineSec: 60, evaluate: false });
    const task = await device.trainTask();
    await device.reply(task.commandId, ResultCode.RESULT_CODE_REFUSED, { errorCode: 'AGENT_ERR_NO_DATA', reason: 'no local data' });
    const done = await waitForCampaign(api, campaign.id, (c) => c.state !== 'running', 5000, 'round failed');
    expect([done.state, done.errorCode, done.error]).toEqual(['failed', 'HUB_ERR_ROUND_TOO_FEW_UPDATES', 'round 1: 0 valid updates, 1 needed']);
    expect(done.rounds.map((r) => [r.state, r.errorCode])).toEqual([['failed', 'HUB_ERR_ROUND_TOO_FEW_UPDATES']]);
  });
});
