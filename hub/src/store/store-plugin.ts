/** Decorates `hub.store`: the SQLite database (migrated) and the blob store under the data directory. */
import fp from 'fastify-plugin';
import '../hub-context.js';
import { openStore, type Store } from './store.js';

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
  }
}

export const storePlugin = fp(
  async (app) => {
    const store = openStore({ dataDir: app.config.dataDir, clock: app.clock });
    app.log.info({ dataDir: store.dataDir, applied: store.migrations.applied, schemaVersion: store.migrations.version }, 'store opened');
    app.decorate('store', store);
    app.addHook('onClose', async () => store.close());
  },
  { name: 'fedfleet-store', fastify: '5.x' },
);
