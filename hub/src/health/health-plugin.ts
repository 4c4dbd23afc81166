/**
 * Decorates `hub.health` and serves `/v1/alerts` and `GET /v1/fleet/health` (hub/docs/health.md). Plugs device
 * health into the fleet's device JSON, registers the alert metrics, and on ready starts the rule engine (which
 * adopts the open alerts a previous process left) and the optional webhook; on close stops both before the store
 * closes.
 */
import fp from 'fastify-plugin';
import '../hub-context.js';
import '../audit/audit-plugin.js';
import '../fleet/fleet-plugin.js';
import { resolveRules, type AlertRule, type RuleSettings } from './alert-config.js';
import { createAlertEngine, type AlertEngine } from './alert-engine.js';
import { createAlertRepo } from './alert-repo.js';
import { createAlertWebhook, type AlertWebhook } from './alert-webhook.js';
import { createAlerts, type Alerts } from './alerts.js';
import { createDeviceHealthView, type DeviceHealthView } from './device-health.js';
import { ALERT_EVENTS } from './health-events.js';
import { registerHealthMetrics } from './health-metrics.js';
import { alertRoutes } from './routes/alert-routes.js';
import { fleetHealthRoute } from './routes/fleet-health-route.js';

export interface Health extends Pick<DeviceHealthView, 'fleetHealth'> {
  readonly alerts: Alerts;
  readonly engine: AlertEngine;
  /** Every rule's settings: defaults with the `alerts` config applied. */
  readonly rules: Readonly<Record<AlertRule, RuleSettings>>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Device health, alert rules and alerts. */
    health: Health;
  }
}

export const healthPlugin = fp(
  async (app) => {
    const { config, clock, events, fleet } = app;
    const log = app.log.child({ component: 'health' });
    const repo = createAlertRepo(app.store.db);
    const rules = resolveRules(config.alerts);
    const metrics = registerHealthMetrics(app.metrics.registry, () => repo.countOpenByRule());
    const alerts = createAlerts({ repo, events, audit: app.audit, clock, opened: metrics.opened });
    // `app.quality` registers before this plugin when the hub has it (build-hub.ts); tests may build without it.
    const quality = app.hasDecorator('quality') ? app.quality : undefined;
    const engine = createAlertEngine({
      alerts, rules, events, devices: fleet.devices, presence: fleet.presence, clock, log,
      ...(quality ? { storedAccuracies: () => quality.latestAccuracies() } : {}),
    });
    const view = createDeviceHealthView({ fleet, alerts, engine });
    app.decorate('health', { alerts, engine, rules, fleetHealth: view.fleetHealth } satisfies Health);
    fleet.useHealth((device) => view.healthOf(device));

    let webhook: AlertWebhook | undefined;
    const unsubscribers: Array<() => void> = [];
    app.addHook('onReady', async () => {
      // The webhook listens first: the engine's start may already resolve alerts.
      if (config.alertWebhookUrl) {
        const hook = createAlertWebhook({
          url: config.alertWebhookUrl, secret: config.alertWebhookSecret, clock, log, deliveries: metrics.webhookDeliveries,
        });
        webhook = hook;
        for (const name of ALERT_EVENTS) unsubscribers.push(events.on(name, ({ alert }) => hook.send(name, alert)));
      }
      engine.start();
    });
    app.addHook('onClose', async () => {
      engine.stop();
      for (const off of unsubscribers.splice(0)) off();
      webhook?.close();
    });

    await app.register(alertRoutes);
    await app.register(fleetHealthRoute);
  },
  {
    name: 'fedfleet-health',
    fastify: '5.x',
    dependencies: ['fedfleet-store', 'fedfleet-metrics', 'fedfleet-events', 'fedfleet-audit', 'fedfleet-fleet'],
  },
);
