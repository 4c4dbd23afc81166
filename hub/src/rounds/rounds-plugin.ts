/**
 * Decorates `hub.coordinator`, wires round traffic (updates through the broker's router, task replies through the
 * commands capability), serves `/v1/rounds`, resumes on start. On close it stops intake and waits for round work in
 * flight before the plugins it depends on (store last) close.
 */
import { join } from 'node:path';
import fp from 'fastify-plugin';
import '../hub-context.js';
import '../commands/commands-plugin.js';
import '../models/models-plugin.js';
import '../datasets/datasets-plugin.js';
import '../fleet/fleet-plugin.js';
import '../ml/ml-plugin.js';
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
      store: app.store, registry: app.models, datasets: app.datasets, devices: app.fleet.devices, presence: app.fleet.presence,
      telemetry: app.fleet.telemetry, router: app.broker.router, commands: app.commands, transfers: app.transfers, evaluator: app.evaluator,
      events: app.events, clock: app.clock, log: app.log.child({ component: 'rounds' }), spoolDir: join(app.store.dataDir, 'updates'),
    });
    app.decorate('coordinator', coordinator);
    await app.register(roundRoutes);
    app.addHook('onReady', async () => coordinator.start());
    app.addHook('onClose', async () => coordinator.close());
  },
  {
    name: 'fedfleet-rounds',
    dependencies: ['fedfleet-models', 'fedfleet-datasets', 'fedfleet-fleet', 'fedfleet-broker', 'fedfleet-events', 'fedfleet-commands', 'fedfleet-ml'],
  },
);
