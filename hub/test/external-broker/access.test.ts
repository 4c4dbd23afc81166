/**
 * What the hub provisions in Mosquitto's dynamic-security plugin (DESIGN section 9 enforced by the external broker):
 * per-device credentials and ACLs — a device can neither publish under another device's topics nor subscribe beyond
 * its own `cmd` and `chunk`, a wrong password is refused, revocation disconnects it and clears its retained status,
 * and a device enrolled while the broker is down can connect once the broker is back.
 */
import mqtt from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DeviceState, deviceTopic, encodeEnvelope } from '@fedfleet/proto';
import { connectError, subackCode } from '../helpers/devices.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';
import { waitFor } from '../rounds/round-helpers.js';
import { startExternalRoundHub } from './external-hub.js';
import { HUB_BROKER_PASSWORD, HUB_BROKER_USERNAME } from './mosquitto.js';

async function isOnline(api: Awaited<ReturnType<typeof startExternalRoundHub>>['api'], deviceId: string): Promise<boolean> {
  return (await api<{ status: string }>('GET', `/v1/devices/${deviceId}`)).body.status === 'online';
}

describe('external broker: device access provisioned in Mosquitto', () => {
  it('keeps a device to its own topics: another device\'s topics and wildcards are refused by Mosquitto', async () => {
    const { api, enroll, online, broker } = await startExternalRoundHub();
    const mallory = await enroll('mallory');
    const victim = await enroll('victim', { connect: false });
    await online([mallory.deviceId]);
    const client = mallory.client!;

    for (const filter of ['#', 'ff/v1/dev/+/cmd', deviceTopic(victim.deviceId, 'cmd'), deviceTopic(victim.deviceId, 'chunk')]) {
      expect(await subackCode(client, filter), filter).toBe(128);
    }
    expect(await subackCode(client, deviceTopic(mallory.deviceId, 'chunk'))).toBe(1);

    // Speaking for the victim: a valid ONLINE status (would bring it online) and a telemetry sample.
    const forged = encodeEnvelope({ deviceId: victim.deviceId, status: { state: DeviceState.DEVICE_STATE_ONLINE, agentVersion: 'forged' } });
    await client.publishAsync(deviceTopic(victim.deviceId, 'status'), Buffer.from(forged), { qos: 1, retain: true });
    await client.publishAsync(deviceTopic(victim.deviceId, 'telemetry'), Buffer.from(encodeEnvelope({ deviceId: victim.deviceId, telemetry: { cpuPercent: 1 } })), { qos: 1 });
    // Then something of its own, which the hub sees after whatever it would have seen of the above.
    await mallory.publish('status', { status: { state: DeviceState.DEVICE_STATE_ONLINE, agentVersion: 'marker' } }, { retain: true });
    await waitFor(async () => (await api<{ agentVersion: string }>('GET', `/v1/devices/${mallory.deviceId}`)).body.agentVersion === 'marker', 5000, 'the marker');
    expect(await isOnline(api, victim.deviceId)).toBe(false);
    expect(broker.currentSession(victim.deviceId)).toBeUndefined();
    expect(await broker.retainedStatus(victim.deviceId)).toBeUndefined();
  });

  it('refuses a wrong password, a borrowed client id and an unknown device', async () => {
    const { enroll, mosquitto } = await startExternalRoundHub();
    const device = await enroll('d', { connect: false });
    const other = await enroll('o', { connect: false });
    const { username, password, clientId } = device.creds;
    expect(await connectError(mosquitto.url, { username, password: `${password}x`, clientId })).toMatchObject({ code: 5 });
    expect(await connectError(mosquitto.url, { username, password, clientId: other.creds.clientId })).toMatchObject({ code: expect.any(Number) });
    expect(await connectError(mosquitto.url, { username: 'dev-unknown', password, clientId: 'dev-unknown' })).toMatchObject({ code: 5 });
    expect(await connectError(mosquitto.url, { clientId: 'anonymous' })).toMatchObject({ code: 5 });
    expect(await connectError(mosquitto.url, { username, password, clientId })).toBeUndefined();
  });

  it('revoking a device disconnects it at the broker, clears its retained status and keeps it out', async () => {
    const { api, enroll, online, mosquitto, broker } = await startExternalRoundHub();
    const device = await enroll('d');
    await online([device.deviceId]);
    expect(await broker.retainedStatus(device.deviceId)).toBeDefined();
    let closed = false;
    device.client!.once('close', () => (closed = true));

    expect((await api('DELETE', `/v1/devices/${device.deviceId}`)).status).toBe(204);
    await waitFor(() => closed, 5000, 'Mosquitto to disconnect the device');
    expect(broker.isConnected(device.deviceId)).toBe(false);
    expect(await broker.retainedStatus(device.deviceId)).toBeUndefined();
    const { username, password, clientId } = device.creds;
    expect(await connectError(mosquitto.url, { username, password, clientId })).toMatchObject({ code: 5 });

    // What a new subscriber gets from the broker itself: no retained status of the revoked device.
    const watcher = await mqtt.connectAsync(mosquitto.url, { username: HUB_BROKER_USERNAME, password: HUB_BROKER_PASSWORD, reconnectPeriod: 0 });
    onTestFinished(() => watcher.endAsync(true));
    const seen: string[] = [];
    watcher.on('message', (topic, payload) => payload.byteLength > 0 && seen.push(topic));
    await watcher.subscribeAsync(deviceTopic(device.deviceId, 'status'), { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual([]);
  });

  it('provisions a device enrolled while the broker was down once the broker is back; metrics show the outage', async () => {
    const { enroll, mosquitto, broker, testHub } = await startExternalRoundHub();
    const scrape = async (): Promise<Record<string, number | undefined>> => {
      const families = parsePrometheusText((await testHub.hub.inject({ method: 'GET', url: '/metrics' })).body);
      const value = (name: string) => families.get(name)?.samples[0]?.value;
      return {
        connected: value('fedfleet_external_broker_connected'),
        pending: value('fedfleet_external_broker_pending_provisioning'),
        connects: value('fedfleet_external_broker_connects_total'),
      };
    };
    // The first start may count two connects: Mosquitto drops the hub once when it grants the hub its role.
    const before = await scrape();
    expect(before).toMatchObject({ connected: 1, pending: 0 });
    expect(before.connects).toBeGreaterThanOrEqual(1);
    await mosquitto.kill();
    await waitFor(() => !broker.brokerConnected(), 5000, 'the hub to notice');
    const device = await enroll('late', { connect: false });
    expect(broker.pendingProvisioning()).toBe(1);
    expect(await scrape()).toEqual({ connected: 0, pending: 1, connects: before.connects });

    await mosquitto.restart();
    await waitFor(() => broker.pendingProvisioning() === 0, 10_000, 'the re-sync');
    expect(await scrape()).toEqual({ connected: 1, pending: 0, connects: before.connects! + 1 });
    const { username, password, clientId } = device.creds;
    expect(await connectError(mosquitto.url, { username, password, clientId })).toBeUndefined();
  });
});
