/** Decorates `hub.datasets` (validation sets for hub-side evaluation) and serves `/v1/datasets`. */
import fp from 'fastify-plugin';
import '../hub-context.js';
import { DatasetRegistry } from './dataset-registry.js';
import { datasetRoutes } from './routes/dataset-routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    datasets: DatasetRegistry;
  }
}

export const datasetsPlugin = fp(
  async (app) => {
    app.decorate('datasets', new DatasetRegistry(app.store, app.clock));
    await app.register(datasetRoutes);
  },
  { name: 'fedfleet-datasets', dependencies: ['fedfleet-store', 'fedfleet-audit'] },
);
