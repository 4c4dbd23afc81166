import { describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { deviceTopic, encodeEnvelope } from '@fedfleet/proto';
import { connectDevice, connectError, enrollDevice, publishStatus, subackCode, waitFor } from './helpers/devices.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

async function metric(testHub: TestHub, line: string): Promise<number> {
  const text = (await testHub.hub.inject({ method: 'GET', url: '/metrics' })).body;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.split(' ').pop()) : 0;
}

describe('embedded broker: authentication', () => {
  it('refuses anonymous clients', async () => {
    const testHub = await startTestHub();
    const error = await connectError(testHub.mqttUrl, { clientId: 'dev-anon' });
    expect(error?.code).toBe(5); // CONNACK: not authorized
  });

  it('refuses a wrong password and an unknown device', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    expect((await connectError(testHub.mqttUrl, { clientId: device.clientId, username: device.username, password: 'wrong' }))?.code).toBe(4);
    expect((await connectError(testHub.mqttUrl, { clientId: 'dev-nobody', username: 'dev-nobody', password: device.password }))?.code).toBe(4);
    expect(await metric(testHub, 'fedfleet_mqtt_auth_failures_total{reason="bad credentials"}')).toBe(2);
  });

  it('refuses a client id that differs from the username', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const error = await connectError(testHub.mqttUrl, { clientId: 'someone-else', username: device.username, password: device.password });
    expect(error?.code).toBe(2); // identifier rejected
  });

  it('refuses a last will aimed at another topic', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const other = await enrollDevice(testHub);
    const error = await connectError(testHub.mqttUrl, {
      clientId: device.clientId,
      username: device.username,
      password: device.password,
      will: { topic: deviceTopic(other.deviceId, 'status'), payload: Buffer.from('x'), qos: 1, retain: true },
    });
    expect(error?.code).toBe(5);
  });

  it('accepts the right credentials', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    expect(client.connected).toBe(true);
  });
});

describe('embedded broker: ACL', () => {
  it('grants a device its own cmd and chunk topics and refuses everything else with SUBACK 0x80', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const other = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    const granted = await client.subscribeAsync([deviceTopic(device.deviceId, 'cmd'), deviceTopic(device.deviceId, 'chunk')], { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1, 1]);

    const refused = [
      deviceTopic(other.deviceId, 'cmd'),
      deviceTopic(other.deviceId, 'chunk'),
      deviceTopic(device.deviceId, 'status'),
      deviceTopic(other.deviceId, 'telemetry'),
      'ff/v1/dev/+/cmd',
      `ff/v1/dev/${device.deviceId}/+`,
      '#',
      '$SYS/#',
    ];
    for (const topic of refused) {
      expect(await subackCode(client, topic), topic).toBe(128);
    }
    expect(client.connected).toBe(true);
    expect(await metric(testHub, 'fedfleet_mqtt_acl_denials_total{action="subscribe"}')).toBe(refused.length);
  });

  it('disconnects a device that publishes to another device’s topic, and keeps serving', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const other = await enrollDevice(testHub);
    const victim = await connectDevice(testHub, other);
    await publishStatus(victim, other.deviceId);
    await waitFor(() => testHub.hub.fleet.liveness.isOnline(other.deviceId));

    const offender = await connectDevice(testHub, device, { will: false });
    const closed = new Promise<void>((resolve) => offender.once('close', () => resolve()));
    const forged = encodeEnvelope({ deviceId: other.deviceId, status: { state: 2 } });
    offender.publish(deviceTopic(other.deviceId, 'status'), Buffer.from(forged), { qos: 1, retain: true });
    await closed; // [MQTT-3.3.5-2]: aedes closes the connection instead of acknowledging
    expect(await metric(testHub, 'fedfleet_mqtt_acl_denials_total{action="publish"}')).toBe(1);
    expect(testHub.hub.fleet.liveness.isOnline(other.deviceId)).toBe(true);

    // Publishing on a topic kind devices may not send (cmd) is refused the same way.
    const again = await connectDevice(testHub, device, { will: false });
    const closedAgain = new Promise<void>((resolve) => again.once('close', () => resolve()));
    again.publish(deviceTopic(device.deviceId, 'cmd'), Buffer.from('x'), { qos: 0 });
    await closedAgain;
    expect(await metric(testHub, 'fedfleet_mqtt_acl_denials_total{action="publish"}')).toBe(2);
    expect((await testHub.api('GET', '/healthz', undefined, null)).status).toBe(200);
  });

  it('never lets one device receive another device’s commands', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const other = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    const received: string[] = [];
    client.on('message', (topic) => received.push(topic));
    await client.subscribeAsync(deviceTopic(device.deviceId, 'cmd'), { qos: 1 });
    expect(await subackCode(client, deviceTopic(other.deviceId, 'cmd'))).toBe(128);
    await testHub.hub.broker.sendToDevice(other.deviceId, 'cmd', { command: { commandId: 'c-other', config: { heartbeatSec: 5 } } });
    await testHub.hub.broker.sendToDevice(device.deviceId, 'cmd', { command: { commandId: 'c-mine', config: { heartbeatSec: 5 } } });
    await waitFor(() => received.length === 1);
    expect(received).toEqual([deviceTopic(device.deviceId, 'cmd')]);
  });
});

describe('embedded broker: hub to device', () => {
  it('sendToDevice delivers an envelope addressed to the device with QoS 1', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    await client.subscribeAsync(deviceTopic(device.deviceId, 'cmd'), { qos: 1 });
    const message = new Promise<{ topic: string; payload: Buffer; qos: number }>((resolve) =>
      client.once('message', (topic, payload, packet) => resolve({ topic, payload, qos: packet.qos })),
    );
    await testHub.hub.broker.sendToDevice(device.deviceId, 'cmd', { command: { commandId: 'c1', config: { heartbeatSec: 7 } } });
    const { decodeEnvelope } = await import('@fedfleet/proto');
    const received = await message;
    expect(received.qos).toBe(1);
    const envelope = decodeEnvelope(received.payload, { deviceId: device.deviceId, topicKind: 'cmd' });
    expect(envelope.command?.commandId).toBe('c1');
    expect(envelope.command?.config?.heartbeatSec).toBe(7);
  });

  it('a plain mqtt.js client without credentials cannot even reach $SYS', async () => {
    const testHub = await startTestHub();
    await expect(mqtt.connectAsync(testHub.mqttUrl, { reconnectPeriod: 0 })).rejects.toThrow();
  });
});
