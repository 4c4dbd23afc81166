import { describe, expect, it } from 'vitest';
import { campaignProgress } from '../src/cli/campaign-progress.js';

type Snapshot = Parameters<typeof campaignProgress>[0];

const round = (number: number, state: string, updates = 0) => ({ number, state, updates, targetClients: 10 }) as unknown as NonNullable<Snapshot['currentRound']>;

describe('campaign progress (rounds start|watch bar)', () => {
  // What GET /v1/rounds/:id reports as a 3-round campaign runs. The hub advances roundsDone when a round's version is
  // stored, i.e. while that round is still evaluating.
  const snapshots: Snapshot[] = [
    { roundsTotal: 3, roundsDone: 0, accuracy: [], currentRound: round(1, 'selecting') },
    { roundsTotal: 3, roundsDone: 0, accuracy: [], currentRound: round(1, 'training', 4) },
    { roundsTotal: 3, roundsDone: 0, accuracy: [], currentRound: round(1, 'training', 10) },
    { roundsTotal: 3, roundsDone: 1, accuracy: [], currentRound: round(1, 'evaluating', 10) },
    { roundsTotal: 3, roundsDone: 1, accuracy: [0.8], currentRound: round(1, 'committed', 10) },
    { roundsTotal: 3, roundsDone: 1, accuracy: [0.8], currentRound: round(2, 'training', 0) },
    { roundsTotal: 3, roundsDone: 2, accuracy: [0.8], currentRound: round(2, 'evaluating', 9) },
    { roundsTotal: 3, roundsDone: 2, accuracy: [0.8, 0.9], currentRound: round(3, 'selecting') },
    { roundsTotal: 3, roundsDone: 3, accuracy: [0.8, 0.9, 0.95], currentRound: round(3, 'committed', 10) },
  ];

  it('never goes backwards, and each line names the round whose state it shows', () => {
    let previous = -1;
    for (const snapshot of snapshots) {
      const { done, label } = campaignProgress(snapshot);
      expect(done).toBeGreaterThanOrEqual(previous);
      previous = done;
      const current = snapshot.currentRound!;
      expect(label).toContain(`round ${current.number}/3 ${current.state}`);
      expect(done).toBeGreaterThanOrEqual(current.number - 1);
      expect(done).toBeLessThanOrEqual(current.number);
    }
    expect(previous).toBe(3);
  });

  it('shows the latest committed accuracy', () => {
    expect(campaignProgress(snapshots[5]!).label).toMatch(/acc 80\.00%$/);
    expect(campaignProgress(snapshots[0]!).label).toMatch(/acc -$/);
  });
});
