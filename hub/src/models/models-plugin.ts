/** Decorates `hub.models` (the model registry) and `hub.bundles` (signed bundles), and serves `/v1/models`. */
import fp from 'fastify-plugin';
import '../hub-context.js';
import { BundleBuilder } from './bundle-builder.js';
import { ModelRegistry } from './model-registry.js';
import { bundleRoutes } from './routes/bundle-routes.js';
import { modelRoutes } from './routes/model-routes.js';
import { TfliteExporter } from './tflite-export.js';

declare module 'fastify' {
  interface FastifyInstance {
    models: ModelRegistry;
    /** Signed bundles of model versions (proto/docs/bundles.md), for rollouts and `fedfleet models bundle`. */
    bundles: BundleBuilder;
  }
}

export const modelsPlugin = fp(
  async (app) => {
    const models = new ModelRegistry(app.store, app.clock);
    app.decorate('models', models);
    // One exporter for downloads and bundles. `app.quantizations` is looked up per use: its plugin registers after this one.
    const tflite = new TfliteExporter({ models, blobs: app.store.blobs, quantizations: () => app.quantizations });
    app.decorate('bundles', new BundleBuilder({ models, blobs: app.store.blobs, tflite, identity: app.identity, clock: app.clock }));
    await app.register(modelRoutes, { tflite });
    await app.register(bundleRoutes);
  },
  { name: 'fedfleet-models', dependencies: ['fedfleet-store', 'fedfleet-audit', 'fedfleet-auth'] },
);
