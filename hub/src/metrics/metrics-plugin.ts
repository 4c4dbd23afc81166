/**
 * Decorates `hub.metrics` (one prom-client registry per hub) and serves them at `GET /metrics` in the Prometheus
 * text format (no auth). Once the hub is ready it also listens to the hub's events for lifecycle durations.
 */
import fp from 'fastify-plugin';
import Type from 'typebox';
import '../events/events-plugin.js';
import '../hub-context.js';
import { createHubMetrics, type HubMetrics } from './hub-metrics.js';
import { observeLifecycles } from './lifecycle-metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: HubMetrics;
  }
}

export const metricsPlugin = fp(
  async (app) => {
    const metrics = createHubMetrics();
    app.decorate('metrics', metrics);
    // The events plugin registers after this one; its emitter exists once the hub is ready.
    let unobserve = () => {};
    app.addHook('onReady', async () => {
      unobserve = observeLifecycles(app.events, metrics);
    });
    app.addHook('onClose', async () => unobserve());
    app.get(
      '/metrics',
      {
        config: { public: true },
        schema: {
          tags: ['health'],
          summary: 'Prometheus metrics',
          security: [],
          response: { 200: Type.String({ description: 'Prometheus text exposition format 0.0.4' }) },
        },
      },
      async (_request, reply) => {
        reply.type(metrics.registry.contentType);
        return metrics.registry.render();
      },
    );
  },
  { name: 'fedfleet-metrics', fastify: '5.x' },
);
