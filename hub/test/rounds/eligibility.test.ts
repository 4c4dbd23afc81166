/**
 * Who a round may select (DESIGN §4): online devices matching the selector, able to train, not busy in another
 * round, within the campaign's constraints; a round waits for enough of them, up to its selection timeout.
 */
import { describe, expect, it } from 'vitest';
import { deviceTopic, encodeEnvelope, type TelemetryProps } from '@fedfleet/proto';
import { BOARD, startCampaign, startRoundHub, waitForCampaign, type RawDevice } from './round-helpers.js';

async function sendTelemetry(device: RawDevice, telemetry: TelemetryProps): Promise<void> {
  await device.client!.publishAsync(deviceTopic(device.deviceId, 'telemetry'), Buffer.from(encodeEnvelope({ deviceId: device.deviceId, telemetry })), { qos: 1 });
}

describe('eligibility', () => {
  it('applies temperature, battery and charging constraints from the latest telemetry; devices without readings pass', async () => {
    const { api, enroll, online } = await startRoundHub();
    const cool = await enroll('cool');
    const hot = await enroll('hot');
    const low = await enroll('low-battery');
    const unplugged = await enroll('unplugged');
    const silent = await enroll('silent');
    const cannotTrain = await enroll('mcu', { profile: { ...BOARD, kind: 'mcu', canTrain: false } });
    await online([cool, hot, low, unplugged, silent, cannotTrain].map((d) => d.deviceId));
    await sendTelemetry(cool, { temperatureC: 45, batteryPercent: 80, charging: true });
    await sendTelemetry(hot, { temperatureC: 85, batteryPercent: 80, charging: true });
    await sendTelemetry(low, { temperatureC: 40, batteryPercent: 15, charging: true });
    await sendTelemetry(unplugged, { temperatureC: 40, batteryPercent: 90, charging: false });

    const campaign = await startCampaign(api, {
      model: 'tiny', rounds: 1, clients: 6, overSelect: 1, minClients: 1, deadlineSec: 30, evaluate: false,
      constraints: { maxTemperatureC: 70, minBatteryPercent: 30, requireCharging: true },
    });
    const view = await waitForCampaign(api, campaign.id, (c) => c.rounds[0]?.state === 'training', 5000, 'training');
    expect(view.rounds[0]!.participants.map((p) => p.deviceName).sort()).toEqual(['cool', 'silent']);
    expect(view.rounds[0]!.targetClients).toBe(2);
  });

  it('does not select a device busy in another campaign\'s round', async () => {
    const { api, enroll, online } = await startRoundHub();
    const devices = await Promise.all(['a', 'b', 'c'].map((n) => enroll(n)));
    await online(devices.map((d) => d.deviceId));
    const first = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 2, overSelect: 1, minClients: 2, deadlineSec: 30, evaluate: false, seed: 3 });
    const firstView = await waitForCampaign(api, first.id, (c) => c.rounds[0]?.state === 'training', 5000, 'first training');
    const busy = firstView.rounds[0]!.participants.map((p) => p.deviceId);
    const second = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 2, overSelect: 1, minClients: 1, deadlineSec: 30, evaluate: false });
    const secondView = await waitForCampaign(api, second.id, (c) => c.rounds[0]?.state === 'training', 5000, 'second training');
    const free = devices.map((d) => d.deviceId).filter((id) => !busy.includes(id));
    expect(secondView.rounds[0]!.participants.map((p) => p.deviceId)).toEqual(free);
  });

  it('waits for enough devices to come online, then fails cleanly at the selection timeout', async () => {
    const { api, enroll, online } = await startRoundHub();
    const a = await enroll('a');
    const late = await enroll('late', { connect: false });
    await online([a.deviceId]);
    const waiting = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 2, overSelect: 1, deadlineSec: 30, selectionTimeoutSec: 30, evaluate: false });
    expect(waiting.rounds[0]!.state).toBe('selecting');
    await late.connect();
    const view = await waitForCampaign(api, waiting.id, (c) => c.rounds[0]!.state === 'training', 5000, 'selected once the device came');
    expect(view.rounds[0]!.participants).toHaveLength(2);

    // Two devices could take part, but one stays offline: the round waits for it, up to the selection timeout.
    const { api: api2, enroll: enroll2, online: online2 } = await startRoundHub();
    const only = await enroll2('only');
    await enroll2('away', { connect: false });
    await online2([only.deviceId]);
    const starved = await startCampaign(api2, { model: 'tiny', rounds: 3, clients: 2, overSelect: 1, deadlineSec: 30, selectionTimeoutSec: 0.3, evaluate: false });
    const failed = await waitForCampaign(api2, starved.id, (c) => c.state !== 'running', 5000, 'selection timeout');
    expect([failed.state, failed.errorCode]).toEqual(['failed', 'HUB_ERR_ROUND_NO_ELIGIBLE']);
    expect(failed.error).toBe('round 1: only 1 eligible devices, 2 needed');
    expect(failed.rounds.map((r) => [r.state, r.errorCode, r.participants.length])).toEqual([['failed', 'HUB_ERR_ROUND_NO_ELIGIBLE', 0]]);
  });
});
