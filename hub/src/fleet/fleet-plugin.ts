/**
 * Decorates `hub.fleet` and serves the fleet API (enrollment tokens, enrollment, devices; the fleet health summary is
 * served by the health capability, hub/src/health). Wires the
 * `status` and `telemetry` topic handlers and liveness into the broker's router, and the fleet gauges into
 * `/metrics`. Stopping flushes telemetry and lastSeen and marks connected devices offline (`hub-shutdown`).
 */
import fp from 'fastify-plugin';
import '../hub-context.js';
import '../audit/audit-plugin.js';
import '../auth/auth-plugin.js';
import '../broker/broker-plugin.js';
import '../events/events-plugin.js';
import { formatHostForUrl } from '../net-address.js';
import { createDeviceRepo } from './device-repo.js';
import { createEnrollment } from './enrollment.js';
import { createEnrollmentTokens } from './enrollment-tokens.js';
import './fleet-events.js';
import { createFleet, type Fleet } from './fleet.js';
import { registerFleetMetrics } from './fleet-metrics.js';
import { createStatusHandler } from './handlers/status.js';
import { createTelemetryHandler } from './handlers/telemetry.js';
import { createLiveness } from './liveness.js';
import { deviceRoutes } from './routes/device-routes.js';
import { enrollRoute } from './routes/enroll-route.js';
import { tokenRoutes } from './routes/token-routes.js';
import { createTelemetryIngest } from './telemetry-ingest.js';

declare module 'fastify' {
  interface FastifyInstance {
    fleet: Fleet;
  }
}

/** Host part of an HTTP Host header (`hub.local:8080` → `hub.local`, `[::1]:8080` → `::1`), if parseable. */
export function hostnameOf(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  try {
    const hostname = new URL(`http://${hostHeader}`).hostname;
    return hostname.replace(/^\[(.*)\]$/, '$1') || undefined;
  } catch {
    return undefined;
  }
}

export const fleetPlugin = fp(
  async (app) => {
    const { config, clock, store, broker, events, audit } = app;
    const log = app.log.child({ component: 'fleet' });
    const devices = createDeviceRepo(store.db);
    const tokens = createEnrollmentTokens(store.db, clock);
    const liveness = createLiveness({
      devices,
      broker,
      events,
      clock,
      log,
      heartbeatSec: config.heartbeatSec,
      missedHeartbeats: config.missedHeartbeats,
    });
    const telemetry = createTelemetryIngest({
      db: store.db,
      clock,
      log,
      retentionHours: config.telemetryRetentionHours,
      minuteRetentionDays: config.telemetryMinuteRetentionDays,
      hourRetentionDays: config.telemetryHourRetentionDays,
    });

    function mqttUrlFor(requestHost: string | undefined): string {
      if (config.publicMqttUrl) return config.publicMqttUrl;
      if (config.broker !== 'embedded') return config.broker; // devices connect to the external broker
      const bound = broker.address();
      const host = hostnameOf(requestHost) ?? bound?.host ?? '127.0.0.1';
      return `mqtt://${formatHostForUrl(host)}:${bound?.port ?? config.mqttPort}`;
    }

    const enroll = createEnrollment({
      store,
      devices,
      tokens,
      credentials: app.deviceCredentials,
      audit,
      events,
      clock,
      hubPublicKey: app.identity.publicKeyPem,
      heartbeatSec: config.heartbeatSec,
      mqttUrlFor,
      ...(broker.provisionDevice ? { provisionBroker: broker.provisionDevice.bind(broker) } : {}),
    });
    const fleet = createFleet({
      devices,
      tokens,
      liveness,
      telemetry,
      enroll,
      credentials: app.deviceCredentials,
      broker,
      audit,
      events,
      clock,
      transaction: store.transaction,
    });
    app.decorate('fleet', fleet);

    broker.router.onEvery((message) => liveness.touch(message));
    broker.router.on('status', createStatusHandler(liveness));
    broker.router.on('telemetry', createTelemetryHandler({ ingest: telemetry, liveness, events }));
    registerFleetMetrics({ registry: app.metrics.registry, db: store.db, devices, liveness, broker, telemetry });

    liveness.start();
    telemetry.start();
    app.addHook('onClose', async () => {
      liveness.stop();
      telemetry.stop();
    });

    await app.register(tokenRoutes);
    await app.register(enrollRoute);
    await app.register(deviceRoutes);
  },
  {
    name: 'fedfleet-fleet',
    fastify: '5.x',
    dependencies: ['fedfleet-store', 'fedfleet-broker', 'fedfleet-events', 'fedfleet-audit', 'fedfleet-auth', 'fedfleet-metrics'],
  },
);
