/** Decorates `hub.coordinator`, wires round traffic into the broker, serves `/v1/rounds`, resumes on start. */
import { join } from 'node:path';
import fp from 'fastify-plugin';
import '../hub-context.js';
import '../models/models-plugin.js';
import '../datasets/datasets-plugin.js';
import '../fleet/fleet-plugin.js';
import { Coordinator } from './coordinator.js';
import { roundRoutes } from './routes/round-routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    coordinator: Coordinator;
  }
}

export const roundsPlugin = fp(
  async (app) => {
    const coordinator = new Coordinator({
      store: app.store, registry: app.models, datasets: app.datasets, devices: app.fleet.devices, telemetry: app.fleet.telemetry, broker: app.broker,
      transfers: app.transfers, events: app.events, clock: app.clock, log: app.log.child({ component: 'rounds' }),
      spoolDir: join(app.store.dataDir, 'updates'),
    });
    app.decorate('coordinator', coordinator);
    await app.register(roundRoutes);
    app.addHook('onReady', async () => coordinator.start());
    app.addHook('onClose', async () => coordinator.close());
  },
  { name: 'fedfleet-rounds', dependencies: ['fedfleet-models', 'fedfleet-datasets', 'fedfleet-fleet', 'fedfleet-broker', 'fedfleet-events'] },
);
