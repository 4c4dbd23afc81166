/** A round-test hub (round-helpers.ts) in external-broker mode, on a Mosquitto of its own. */
import type { HubConfig } from '../../src/config.js';
import type { ExternalBroker } from '../../src/broker/external/external-broker.js';
import { startRoundHub } from '../rounds/round-helpers.js';
import { HUB_BROKER_PASSWORD, HUB_BROKER_USERNAME, startMosquitto, type Mosquitto } from './mosquitto.js';

export async function startExternalRoundHub(options: { mosquitto?: Mosquitto; config?: Partial<HubConfig>; dataDir?: string } = {}) {
  const mosquitto = options.mosquitto ?? (await startMosquitto());
  const round = await startRoundHub({
    dataDir: options.dataDir,
    config: { broker: mosquitto.url, brokerUsername: HUB_BROKER_USERNAME, brokerPassword: HUB_BROKER_PASSWORD, ...options.config },
  });
  const broker = round.testHub.hub.broker as ExternalBroker;
  return { ...round, mosquitto, broker };
}
