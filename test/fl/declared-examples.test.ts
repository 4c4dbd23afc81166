/**
 * Acceptance (DESIGN §9): real agents declare the size of their training set in their status, the hub snapshots it
 * when it selects them, and their updates — which name the train task they answer — are weighted by the bounded
 * count (here the task's maxExamples, below every partition).
 */
import { describe, expect, it } from 'vitest';
import { mnistDataSource } from '@fedfleet/agent/ml';
import { FAST_TRAINING, startAgents, startCampaign, startFlHub, waitForCampaign } from './fl-harness.js';

describe('declared training-set sizes', () => {
  it('reach the round through the agents\' status and bound nothing an honest agent claims', async () => {
    const hub = await startFlHub();
    const agents = await startAgents(hub, [0, 1, 2].map((i) => ({ name: `pi-${i}`, data: { index: i, of: 3 } })));
    const started = await startCampaign(hub.api, {
      model: 'digits', rounds: 1, clients: 3, overSelect: 1, minClients: 3, deadlineSec: 30, evaluate: false, ...FAST_TRAINING,
    });
    const done = await waitForCampaign(hub.api, started.id, (c) => c.state !== 'running', 30_000, 'campaign end');
    expect(done.state).toBe('completed');
    const round = done.rounds[0]!;
    expect(round.rejections).toEqual([]);
    for (const [i, agent] of agents.entries()) {
      // The harness's agents hold MNIST iid partition i of 3 (seed 3), as the data source describes it.
      const trainCount = mnistDataSource({ devices: 3, index: i, partition: 'iid', seed: 3 }).describe().trainCount;
      expect(trainCount).toBeGreaterThan(FAST_TRAINING.maxExamples);
      expect(round.participants.find((p) => p.deviceId === agent.deviceId)).toMatchObject({
        state: 'updated', declaredExamples: trainCount, exampleCount: FAST_TRAINING.maxExamples, weight: FAST_TRAINING.maxExamples,
      });
    }
  });
});
