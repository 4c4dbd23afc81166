/**
 * Decorates `hub.broker` (the embedded MQTT broker, or a client of an external one, behind the {@link Broker} interface, with its router),
 * `hub.deviceCredentials` and `hub.transfers`, and serves artifact downloads (`fetch` → `chunk`). The TCP listener
 * starts with `hub.listen()`, MQTT over WebSocket rides on the HTTP listener; closing the hub disconnects every device.
 */
import fp from 'fastify-plugin';
import '../hub-context.js';
import '../metrics/metrics-plugin.js';
import '../store/store-plugin.js';
import { createDeviceCredentials, type DeviceCredentials } from '../auth/device-credentials.js';
import { createAedesBroker } from './aedes-broker.js';
import { externalBrokerFromConfig } from './external/from-config.js';
import type { Broker } from './broker.js';
import { createFetchHandler } from './handlers/fetch.js';
import { createRouter } from './router.js';
import { createTransferMeter, type TransferMeter } from './transfer-meter.js';
import { attachMqttWebSocket } from './websocket.js';

declare module 'fastify' {
  interface FastifyInstance {
    broker: Broker;
    deviceCredentials: DeviceCredentials;
    transfers: TransferMeter;
  }
}

export const brokerPlugin = fp(
  async (app) => {
    const log = app.log.child({ component: 'broker' });
    const credentials = createDeviceCredentials({ db: app.store.db, clock: app.clock });
    const { config } = app;
    const router = createRouter({
      maxPayloadBytes: config.maxPayloadBytes,
      clock: app.clock,
      log,
      metrics: app.metrics,
      // The byte burst lets a few maximum-size payloads through back to back (an update, then its retry).
      rateLimits: { kinds: config.deviceRateLimits, bytesPerSec: config.deviceBytesPerSec, burstBytes: 4 * config.maxPayloadBytes },
    });
    // DESIGN section 8: `--broker mqtt://…` makes the hub a client of an external broker (broker/external/).
    const external = config.broker === 'embedded'
      ? undefined
      : externalBrokerFromConfig({ config, router, db: app.store.db, log, metrics: app.metrics, clock: app.clock });
    const broker: Broker = external ?? await createAedesBroker({
      router,
      credentials,
      log,
      metrics: app.metrics,
      clock: app.clock,
      maxPayloadBytes: config.maxPayloadBytes,
      maxConnectBytes: config.mqttMaxConnectBytes,
      connectTimeoutSec: config.mqttConnectTimeoutSec,
      packetsPerSec: config.mqttPacketsPerSec,
      loginFailuresPerMin: config.mqttLoginFailuresPerMin,
    });
    const transfers = createTransferMeter(app.metrics.artifactBytesSent);
    router.on(
      'fetch',
      createFetchHandler({
        blobs: app.store.blobs, grants: app.store.grants, denied: app.metrics.artifactFetchDenied, log, clock: app.clock,
        broker, meter: transfers, maxPayloadBytes: app.config.maxPayloadBytes,
      }),
    );
    // MQTT over WebSocket shares the HTTP listener (it accepts upgrades once `hub.listen()` starts it).
    const webSocket = app.config.mqttWsPath && config.broker === 'embedded'
      ? attachMqttWebSocket(app.server, broker, {
        path: app.config.mqttWsPath, maxMessageBytes: 2 * app.config.maxPayloadBytes + 64 * 1024, log,
      })
      : undefined;
    app.decorate('broker', broker);
    app.decorate('deviceCredentials', credentials);
    app.decorate('transfers', transfers);
    app.addHook('onClose', async () => {
      await webSocket?.close();
      await broker.close();
    });
  },
  { name: 'fedfleet-broker', fastify: '5.x', dependencies: ['fedfleet-store', 'fedfleet-metrics'] },
);
