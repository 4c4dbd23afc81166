/**
 * The round life cycle of DESIGN §4: created → selecting → training → aggregating → evaluating → committed | failed.
 * Every transition is persisted before the coordinator acts on it, so a restarted hub resumes from the stored state.
 */
export const ROUND_STATES = ['created', 'selecting', 'training', 'aggregating', 'evaluating', 'committed', 'failed'] as const;
export type RoundState = (typeof ROUND_STATES)[number];

export const CAMPAIGN_STATES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

const NEXT: Readonly<Record<RoundState, readonly RoundState[]>> = {
  created: ['selecting', 'failed'],
  selecting: ['training', 'failed'],
  training: ['aggregating', 'failed'],
  aggregating: ['evaluating', 'committed', 'failed'],
  evaluating: ['committed', 'failed'],
  committed: [],
  failed: [],
};

export function canTransition(from: RoundState, to: RoundState): boolean {
  return NEXT[from].includes(to);
}

export function isTerminal(state: RoundState): boolean {
  return NEXT[state].length === 0;
}

/** Participant states; `training` = the device accepted the task. */
export const PARTICIPANT_STATES = ['selected', 'training', 'updated', 'refused', 'failed', 'dropped', 'cancelled'] as const;
export type ParticipantState = (typeof PARTICIPANT_STATES)[number];

/** A participant that may still send an update. */
export function isPending(state: ParticipantState): boolean {
  return state === 'selected' || state === 'training';
}
