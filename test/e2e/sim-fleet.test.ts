/**
 * `fedfleet sim` as a user runs it, in processes of its own next to a `fedfleet hub` process: N enrolled devices,
 * each with its own MQTT session and credentials, train a campaign; a restart of the sims reuses their credentials.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { CampaignDetailJson } from '../../hub/src/rounds/schemas.js';
import { startHubProcess, type HubProcess } from '../support/hub-process.js';
import { startSimProcesses } from '../support/sim-processes.js';

interface Device { id: string; name: string; labels: Record<string, string>; status: string; profile: { kind: string; canTrain: boolean } }

async function simDevices(hub: HubProcess): Promise<Device[]> {
  return hub.api.request<Device[]>('GET', '/v1/devices?selector=sim%3Dtrue&limit=100');
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('fedfleet sim (separate processes)', () => {
  it('runs N devices over two processes that train a campaign through the hub; a restart reuses their credentials', async () => {
    const hub = await startHubProcess();
    onTestFinished(() => hub.stop());
    const options = { devices: 6, processes: 2, data: 'mnist:shards', labels: { site: 'lab' } };
    let sims = await startSimProcesses(hub, options);
    onTestFinished(() => sims.stop());

    const devices = await simDevices(hub);
    expect(devices.map((d) => d.name).sort()).toEqual(['sim-000', 'sim-001', 'sim-002', 'sim-003', 'sim-004', 'sim-005']);
    expect(new Set(devices.map((d) => d.id)).size).toBe(6);
    for (const d of devices) {
      expect(d).toMatchObject({ status: 'online', labels: { sim: 'true', site: 'lab', profile: 'rpi-zero-2w' }, profile: { kind: 'rpi-zero-2w', canTrain: true } });
    }
    const tokens = (await hub.api.request<unknown[]>('GET', '/v1/enrollment-tokens')).length;
    expect(tokens).toBe(2); // one per sim process, made with the admin token

    const started = await hub.api.request<CampaignDetailJson>('POST', '/v1/rounds', {
      model: 'mnist-2nn', selector: 'site=lab', rounds: 2, clients: 4, epochs: 1, batchSize: 20, learningRate: 0.1, maxExamples: 40, deadlineSec: 60,
    });
    const done = await until('the campaign to end', async () => {
      const c = await hub.api.request<CampaignDetailJson>('GET', `/v1/rounds/${started.id}`);
      return c.state === 'running' ? undefined : c;
    }, 90_000);
    expect([done.state, done.error]).toEqual(['completed', null]);
    for (const round of done.rounds) {
      expect(round.state).toBe('committed');
      expect(round.updates).toBe(4);
      expect(round.accuracy).toEqual(expect.any(Number));
      // Every update came from a sim device, each over its own session.
      const trained = round.participants.filter((p) => p.state === 'evaluated' || p.state === 'updated');
      expect(new Set(trained.map((p) => p.deviceId)).size).toBe(trained.length);
      expect(trained.every((p) => devices.some((d) => d.id === p.deviceId))).toBe(true);
    }

    // Stopped sims say goodbye; restarted ones come back as the same devices without enrolling again.
    await sims.stop();
    await until('every sim device offline', async () => ((await simDevices(hub)).every((d) => d.status === 'offline') ? true : undefined));
    sims = await startSimProcesses(hub, options);
    const again = await simDevices(hub);
    expect(again.map((d) => d.id).sort()).toEqual(devices.map((d) => d.id).sort());
    expect(again.every((d) => d.status === 'online')).toBe(true);
    expect((await hub.api.request<unknown[]>('GET', '/v1/enrollment-tokens')).length).toBe(tokens);
  }, 180_000);
});
