/**
 * The one writer of round and campaign states (STYLE 15): every change is checked against the tables of
 * round-state.ts — HUB_ERR_ILLEGAL_TRANSITION, and nothing written, when they do not allow it — and stored with the
 * failure's HUB_ERR_* code next to its text. Writes join the caller's transaction; the `round.state` and
 * `campaign.state` events are emitted separately, once the caller's transaction committed.
 */
import type { Clock } from '../clock.js';
import type { HubErrorCode } from '../errors.js';
import type { HubEvents } from '../events/hub-events.js';
import type { CampaignRecord, RoundRecord, RoundRepo } from './round-repo.js';
import { checkCampaignTransition, checkRoundTransition, type CampaignState, type RoundState } from './round-state.js';
import './round-events.js';

/** Why a round or campaign failed: a stable code (what clients branch on) and its text. */
export interface Failure {
  code: HubErrorCode;
  message: string;
}

export interface RoundTransitions {
  /** Moves a round to `to` (with why, when it fails); throws HUB_ERR_ILLEGAL_TRANSITION when the table says no. */
  moveRound(roundId: string, to: RoundState, failure?: Failure): RoundRecord;
  /** Moves a campaign to `to` (with why, when it ends other than completed); HUB_ERR_ILLEGAL_TRANSITION likewise. */
  moveCampaign(campaignId: string, to: CampaignState, failure?: Failure): CampaignRecord;
  /** Announces a round's stored state (`round.state`). */
  emitRound(roundId: string): void;
  /** Announces a campaign's stored state (`campaign.state`). */
  emitCampaign(campaignId: string): void;
}

export function createRoundTransitions(deps: { rounds: RoundRepo; events: HubEvents; clock: Clock }): RoundTransitions {
  const { rounds, events, clock } = deps;
  const iso = () => new Date(clock.now()).toISOString();
  const missing = (what: string, id: string) => new Error(`no ${what} ${id}`);

  return {
    moveRound(roundId, to, failure) {
      const round = rounds.round(roundId);
      if (!round) throw missing('round', roundId);
      checkRoundTransition(roundId, round.state, to);
      rounds.setRoundState(roundId, to, failure?.message ?? null, failure?.code ?? null, clock.now());
      return rounds.round(roundId)!;
    },
    moveCampaign(campaignId, to, failure) {
      const campaign = rounds.campaign(campaignId);
      if (!campaign) throw missing('campaign', campaignId);
      checkCampaignTransition(campaignId, campaign.state, to);
      rounds.setCampaignState(campaignId, to, failure?.message ?? null, failure?.code ?? null, clock.now());
      return rounds.campaign(campaignId)!;
    },
    emitRound(roundId) {
      const round = rounds.round(roundId);
      if (!round) return;
      events.emit('round.state', {
        campaignId: round.campaignId, roundId, number: round.number, state: round.state, error: round.error, errorCode: round.errorCode, at: iso(),
      });
    },
    emitCampaign(campaignId) {
      const campaign = rounds.campaign(campaignId);
      if (!campaign) return;
      events.emit('campaign.state', { campaignId, state: campaign.state, error: campaign.error, errorCode: campaign.errorCode, at: iso() });
    },
  };
}
