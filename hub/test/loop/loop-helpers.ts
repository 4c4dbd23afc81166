/**
 * Helpers of the closed-loop tests: a round hub on a manual clock with two devices in group `site=a` and one
 * outside it, loop policies created through the API, drift alerts raised through the alerts service (as helper A's
 * rule engine raises them), and a campaign round played by the raw devices with the federated evaluation a test wants.
 */
import { createManualClock, type ManualClock } from '../../src/clock.js';
import type { LoopActionJson, LoopPolicyJson } from '../../src/loop/loop-schemas.js';
import type { HubConfig } from '../../src/config.js';
import { RawDevice, startRoundHub, tinyDelta, waitFor, type Api } from '../rounds/round-helpers.js';

/** A campaign a test can play by hand: one round of both group devices, nothing left to timers. */
export const LOOP_CAMPAIGN = { rounds: 1, clients: 2, minClients: 2, overSelect: 1, deadlineSec: 30, evalTimeoutSec: 30 };

export async function startLoopHub(options: { config?: Partial<HubConfig>; dataDir?: string; clock?: ManualClock } = {}) {
  const clock = options.clock ?? createManualClock(Date.now());
  const round = await startRoundHub({ clock, config: options.config, ...(options.dataDir ? { dataDir: options.dataDir } : {}) });
  const { api, enroll, online } = round;
  const group = [await enroll('a1', { labels: { site: 'a' } }), await enroll('a2', { labels: { site: 'a' } })];
  const outsider = await enroll('b1', { labels: { site: 'b' } });
  await online([...group, outsider].map((d) => d.deviceId));
  return { ...round, clock, group, outsider, hub: round.testHub.hub };
}

export async function createPolicy(api: Api, body: Record<string, unknown> = {}): Promise<LoopPolicyJson> {
  const response = await api<LoopPolicyJson>('POST', '/v1/loop-policies', {
    name: 'site-a', selector: 'site=a', model: 'tiny', campaign: LOOP_CAMPAIGN, cooldownSec: 60, ...body,
  });
  if (response.status !== 201) throw new Error(`POST /v1/loop-policies: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function actionsOf(api: Api, policyId: string): Promise<LoopActionJson[]> {
  const response = await api<{ actions: LoopActionJson[] }>('GET', `/v1/loop-policies/${policyId}/actions`);
  if (response.status !== 200) throw new Error(`actions: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.actions;
}

/** Waits until the policy has `count` actions; returns them, newest first. */
export async function waitForActions(api: Api, policyId: string, count: number): Promise<LoopActionJson[]> {
  return waitFor(async () => {
    const actions = await actionsOf(api, policyId);
    return actions.length >= count ? actions : undefined;
  }, 5000, `${count} loop actions`);
}

/** Lets the loop's listeners (they run after the event, on a promise) see what happened. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

type AlertsHub = { health: { alerts: { raise(o: Record<string, unknown>): { id: string }; clear(rule: string, subject: string): unknown } } };

export function raiseDrift(hub: unknown, device: RawDevice, rule = 'accuracy-drift'): string {
  return (hub as AlertsHub).health.alerts.raise({
    rule, subject: `device:${device.deviceId}`, deviceId: device.deviceId, severity: 'warning', message: 'accuracy dropped', value: 0.5, threshold: 0.1,
  }).id;
}

export function clearDrift(hub: unknown, device: RawDevice, rule = 'accuracy-drift'): void {
  (hub as AlertsHub).health.alerts.clear(rule, `device:${device.deviceId}`);
}

/**
 * Plays the campaign's one round with `devices`: each trains (reporting `accuracyBefore`, the starting weights'
 * held-out accuracy) and evaluates the new version at `accuracy`.
 */
export async function playRound(devices: RawDevice[], opts: { accuracyBefore: number; accuracy: number }): Promise<void> {
  const tasks = await Promise.all(devices.map((d) => d.trainTask()));
  for (const [i, d] of devices.entries()) {
    await d.sendUpdate(d.update(tasks[i]!, tinyDelta(0.01), 20, { metrics: { trainLoss: 0.5, accuracyBefore: opts.accuracyBefore, accuracyAfter: opts.accuracy } }));
  }
  const roundId = tasks[0]!.roundId;
  for (const d of devices) {
    const command = await waitFor(() => d.commands.find((c) => c.eval?.roundId === roundId), 5000, `eval task for ${d.creds.name}`);
    await d.publish('reply', {
      evalResult: { roundId, commandId: command.commandId!, versionId: command.eval!.model!.versionId!, exampleCount: 20, accuracy: opts.accuracy, loss: 0.4 },
    });
  }
  for (const d of devices) d.commands.length = 0; // the next campaign's tasks are the first ones seen
}
