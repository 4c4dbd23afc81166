/**
 * Two hubs' broker connections in one shared-subscription group on one Mosquitto ([MQTT-4.8.2]): a device's messages
 * are split between them, each delivered to exactly one. (Whole hubs cannot share a data directory today — each locks
 * its own — so this runs at the broker layer: two ExternalBrokers with routers of their own.)
 */
import mqtt from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { deviceTopic, encodeEnvelope } from '@fedfleet/proto';
import { createExternalBroker, type ExternalBroker } from '../../src/broker/external/external-broker.js';
import { createRouter } from '../../src/broker/router.js';
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/logger.js';
import { createHubMetrics } from '../../src/metrics/hub-metrics.js';
import { waitFor } from '../helpers/devices.js';
import { HUB_BROKER_PASSWORD, HUB_BROKER_USERNAME, startMosquitto, type Mosquitto } from './mosquitto.js';

const DEVICE = 'dev-shared-0001';
const PASSWORD = 'device-password-0123456789';

async function hubBroker(mosquitto: Mosquitto, clientId: string, seen: string[]): Promise<ExternalBroker> {
  const log = createLogger('silent');
  const metrics = createHubMetrics();
  const router = createRouter({ maxPayloadBytes: 64 * 1024, clock: systemClock, log, metrics });
  router.on('reply', (message) => void seen.push(message.envelope.msgId!));
  const broker = createExternalBroker({
    router, url: mosquitto.url, username: HUB_BROKER_USERNAME, password: HUB_BROKER_PASSWORD, clientId, dataDir: '/unused',
    activeDeviceIds: () => new Set([DEVICE]), log, metrics, clock: systemClock, maxPayloadBytes: 64 * 1024,
  });
  onTestFinished(() => broker.close());
  await broker.listen({ port: 0, host: '127.0.0.1' });
  await broker.synced();
  return broker;
}

describe('external broker: several hubs', () => {
  it('splits device messages between the hubs of the share group, each message to one hub', async () => {
    const mosquitto = await startMosquitto();
    const [seenA, seenB] = [[] as string[], [] as string[]];
    const a = await hubBroker(mosquitto, 'hub-a', seenA);
    await hubBroker(mosquitto, 'hub-b', seenB);
    await a.provisionDevice(DEVICE, PASSWORD);

    const device = await mqtt.connectAsync(mosquitto.url, { clientId: DEVICE, username: DEVICE, password: PASSWORD, protocolVersion: 4, reconnectPeriod: 0 });
    onTestFinished(() => device.endAsync(true));
    const sent = Array.from({ length: 20 }, (_, i) => `reply-${i}`);
    for (const msgId of sent) {
      const payload = encodeEnvelope({ deviceId: DEVICE, msgId, commandResult: { commandId: 'c-1', code: 1 } });
      await device.publishAsync(deviceTopic(DEVICE, 'reply'), Buffer.from(payload), { qos: 1 });
    }
    await waitFor(() => seenA.length + seenB.length >= sent.length, 5000, 'every reply');
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more arrives
    expect([...seenA, ...seenB].sort()).toEqual([...sent].sort());
    expect(seenA.length).toBeGreaterThan(0);
    expect(seenB.length).toBeGreaterThan(0);
  });
});
