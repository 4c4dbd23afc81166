/** Decorates `hub.models` (the model registry) and serves `/v1/models`. */
import fp from 'fastify-plugin';
import '../hub-context.js';
import { ModelRegistry } from './model-registry.js';
import { modelRoutes } from './routes/model-routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    models: ModelRegistry;
  }
}

export const modelsPlugin = fp(
  async (app) => {
    app.decorate('models', new ModelRegistry(app.store, app.clock));
    await app.register(modelRoutes);
  },
  { name: 'fedfleet-models', dependencies: ['fedfleet-store', 'fedfleet-audit'] },
);
