/**
 * Where a campaign stands, for the `rounds start|watch` progress bar: the rounds done as a fraction and a label that
 * names the round it measures. Derived from the round the hub reports as current, never from `roundsDone`, which the
 * hub advances when a round's new version is stored (before its evaluation): mixing the two labelled a round with the
 * next one's number and let the bar run backwards when the next round started.
 */
import type { CampaignJson } from '../rounds/schemas.js';

/** Share of one round done when it reaches each state; training fills its share by updates received. */
const PHASE_DONE: Readonly<Record<string, number>> = {
  created: 0, selecting: 0, training: 0, aggregating: 0.85, evaluating: 0.9, committed: 1, failed: 1,
};
const TRAINING_SHARE = 0.8;

/** An accuracy in [0, 1] as the CLI shows it (`91.35%`), `-` when there is none. */
export function formatAccuracy(accuracy: number | null | undefined): string {
  return accuracy === null || accuracy === undefined ? '-' : `${(100 * accuracy).toFixed(2)}%`;
}

export interface CampaignProgress {
  /** Rounds done, fractional: round k in progress gives a value in [k − 1, k]. Never decreases as a campaign runs. */
  done: number;
  label: string;
}

export function campaignProgress(campaign: Pick<CampaignJson, 'roundsTotal' | 'roundsDone' | 'currentRound' | 'accuracy'>): CampaignProgress {
  const current = campaign.currentRound;
  const acc = formatAccuracy(campaign.accuracy.at(-1));
  if (!current) return { done: campaign.roundsDone, label: `round -/${campaign.roundsTotal}` };
  const phase = current.state === 'training'
    ? TRAINING_SHARE * Math.min(1, current.updates / Math.max(1, current.targetClients))
    : PHASE_DONE[current.state] ?? 0;
  return {
    done: current.number - 1 + phase,
    label: `round ${current.number}/${campaign.roundsTotal} ${current.state} updates ${current.updates}/${current.targetClients} acc ${acc}`,
  };
}
