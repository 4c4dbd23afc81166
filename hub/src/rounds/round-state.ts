/**
 * The state tables of DESIGN §4 (STYLE 15): a round moves created → selecting → training → aggregating →
 * evaluating → committed | failed, a campaign running → completed | failed | cancelled. Every change of either goes
 * through {@link checkRoundTransition} / {@link checkCampaignTransition} (round-transitions.ts is the one writer);
 * a change the table does not know is a coded error, never a silent write.
 */
import { HubError } from '../errors.js';

export const ROUND_STATES = ['created', 'selecting', 'training', 'aggregating', 'evaluating', 'committed', 'failed'] as const;
export type RoundState = (typeof ROUND_STATES)[number];

export const CAMPAIGN_STATES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

const ROUND_NEXT: Readonly<Record<RoundState, readonly RoundState[]>> = {
  created: ['selecting', 'failed'],
  selecting: ['training', 'failed'],
  training: ['aggregating', 'failed'],
  aggregating: ['evaluating', 'committed', 'failed'],
  evaluating: ['committed', 'failed'],
  committed: [],
  failed: [],
};

const CAMPAIGN_NEXT: Readonly<Record<CampaignState, readonly CampaignState[]>> = {
  running: ['completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

export function canTransition(from: RoundState, to: RoundState): boolean {
  return ROUND_NEXT[from].includes(to);
}

export function canCampaignTransition(from: CampaignState, to: CampaignState): boolean {
  return CAMPAIGN_NEXT[from].includes(to);
}

/** Throws HUB_ERR_ILLEGAL_TRANSITION unless the round table allows `from` → `to`. */
export function checkRoundTransition(roundId: string, from: RoundState, to: RoundState): void {
  if (!canTransition(from, to)) {
    throw new HubError('HUB_ERR_ILLEGAL_TRANSITION', { message: `round ${roundId}: ${from} → ${to} is not a transition`, details: { roundId, from, to } });
  }
}

/** Throws HUB_ERR_ILLEGAL_TRANSITION unless the campaign table allows `from` → `to`. */
export function checkCampaignTransition(campaignId: string, from: CampaignState, to: CampaignState): void {
  if (!canCampaignTransition(from, to)) {
    throw new HubError('HUB_ERR_ILLEGAL_TRANSITION', {
      message: `campaign ${campaignId}: ${from} → ${to} is not a transition`, details: { campaignId, from, to },
    });
  }
}

export function isTerminal(state: RoundState): boolean {
  return ROUND_NEXT[state].length === 0;
}

/** Participant states; `training` = the device accepted the task. */
export const PARTICIPANT_STATES = ['selected', 'training', 'updated', 'refused', 'failed', 'dropped', 'cancelled'] as const;
export type ParticipantState = (typeof PARTICIPANT_STATES)[number];

/** A participant that may still send an update. */
export function isPending(state: ParticipantState): boolean {
  return state === 'selected' || state === 'training';
}
