/**
 * How a hub in external-broker mode starts: refused credentials stop it with HUB_ERR_BROKER_REFUSED; a broker out of
 * reach does not (the hub runs, enrolls devices for later, answers commands with HUB_ERR_BROKER_UNAVAILABLE and
 * closes promptly).
 */
import { describe, expect, it } from 'vitest';
import type { ExternalBroker } from '../../src/broker/external/external-broker.js';
import { HubError } from '../../src/errors.js';
import { enrollDevice } from '../helpers/devices.js';
import { startTestHub } from '../helpers/test-hub.js';
import { HUB_BROKER_PASSWORD, HUB_BROKER_USERNAME, startMosquitto } from './mosquitto.js';

describe('external broker: hub start', () => {
  it('refuses to start when the broker refuses the hub\'s credentials', async () => {
    const mosquitto = await startMosquitto();
    const { hub } = await startTestHub({ listen: false, config: { broker: mosquitto.url, brokerUsername: HUB_BROKER_USERNAME, brokerPassword: 'not-the-password' } });
    const error = await hub.listen().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).code).toBe('HUB_ERR_BROKER_REFUSED');
  });

  it('starts without the broker, enrolls devices for later and closes promptly', async () => {
    const mosquitto = await startMosquitto();
    await mosquitto.kill();
    const testHub = await startTestHub({ listen: false, config: { broker: mosquitto.url, brokerUsername: HUB_BROKER_USERNAME, brokerPassword: HUB_BROKER_PASSWORD } });
    const addresses = await testHub.hub.listen();
    expect(addresses.mqttUrl).toBe(mosquitto.url);
    expect(addresses.mqttWsUrl).toBeUndefined(); // devices use the broker's own listeners
    const broker = testHub.hub.broker as ExternalBroker;
    expect(broker.brokerConnected()).toBe(false);
    const device = await enrollDevice(testHub);
    expect(device.mqttUrl).toBe(mosquitto.url);
    expect(broker.pendingProvisioning()).toBe(1);
    await expect(broker.sendToDevice(device.deviceId, 'cmd', {})).rejects.toMatchObject({ code: 'HUB_ERR_BROKER_UNAVAILABLE' });
    await testHub.hub.close();
  });
});
