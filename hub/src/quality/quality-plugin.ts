/**
 * Decorates `hub.quality` (quality.ts) and serves `GET /v1/devices/:id/quality`. On ready it listens to telemetry,
 * committed rounds and rollout targets; on close it stops listening before the store closes.
 */
import fp from 'fastify-plugin';
import '../hub-context.js';
import '../fleet/fleet-plugin.js';
import '../fleet/fleet-events.js';
import '../models/models-plugin.js';
import '../rollouts/rollouts-plugin.js';
import '../rounds/rounds-plugin.js';
import { createQuality, type Quality } from './quality.js';
import { createQualityRepo } from './quality-repo.js';
import { subscribeQualitySources } from './quality-sources.js';
import { qualityRoute } from './routes/quality-route.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Per-device accuracy history, baselines and input drift. */
    quality: Quality;
  }
}

export const qualityPlugin = fp(
  async (app) => {
    const { events, clock } = app;
    const versionOf = (versionId: string) => {
      try {
        const v = app.models.getVersion(versionId);
        return { modelId: v.modelId, version: v.version };
      } catch {
        return undefined; // a version this hub never registered (a device installed it elsewhere)
      }
    };
    const quality = createQuality({
      repo: createQualityRepo(app.store.db), events, clock, log: app.log.child({ component: 'quality' }), versionOf,
      intervalMs: app.config.qualityIntervalSec * 1000,
    });
    app.decorate('quality', quality);
    const unsubscribers: Array<() => void> = [];
    app.addHook('onReady', async () => {
      unsubscribers.push(events.on('telemetry', ({ deviceId, telemetry }) => quality.onTelemetry(deviceId, telemetry)));
      unsubscribers.push(subscribeQualitySources({ events, quality, rounds: app.coordinator.rounds, rollouts: app.rollouts.repo }));
    });
    app.addHook('onClose', async () => {
      for (const off of unsubscribers.splice(0)) off();
    });
    await app.register(qualityRoute);
  },
  {
    name: 'fedfleet-quality',
    fastify: '5.x',
    dependencies: ['fedfleet-store', 'fedfleet-events', 'fedfleet-fleet', 'fedfleet-models', 'fedfleet-rounds', 'fedfleet-rollouts'],
  },
);
