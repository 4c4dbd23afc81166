/** Decorates `hub.metrics` and serves them at `GET /metrics` in the Prometheus text format (no auth). */
import fp from 'fastify-plugin';
import Type from 'typebox';
import '../hub-context.js';
import { createHubMetrics, type HubMetrics } from './hub-metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: HubMetrics;
  }
}

export const metricsPlugin = fp(
  async (app) => {
    const metrics = createHubMetrics();
    app.decorate('metrics', metrics);
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
        reply.type('text/plain; version=0.0.4; charset=utf-8');
        return metrics.registry.render();
      },
    );
  },
  { name: 'fedfleet-metrics', fastify: '5.x' },
);
