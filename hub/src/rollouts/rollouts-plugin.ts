/**
 * Decorates `hub.rollouts` (rollouts.ts) and serves `/v1/rollouts`. On ready it routes rollout replies, fleet events
 * and Status messages (after the fleet's own status handler) to the rollouts and resumes what a previous process
 * left unfinished; on close it stops before the plugins it uses (commands, store) close.
 */
import fp from 'fastify-plugin';
import '../hub-context.js';
import '../audit/audit-plugin.js';
import '../commands/commands-plugin.js';
import '../fleet/fleet-plugin.js';
import '../models/models-plugin.js';
import { Rollouts } from './rollouts.js';
import { rolloutRoutes } from './routes/rollout-routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Model rollouts to device groups: waves, health gate, shadow canaries, rollback. */
    rollouts: Rollouts;
  }
}

export const rolloutsPlugin = fp(
  async (app) => {
    const rollouts = new Rollouts({
      store: app.store, registry: app.models, bundles: app.bundles, devices: app.fleet.devices, presence: app.fleet.presence,
      commands: app.commands, audit: app.audit, events: app.events, clock: app.clock, log: app.log.child({ component: 'rollouts' }),
    });
    app.decorate('rollouts', rollouts);
    // Registered after the fleet's handler: the device record already holds what the Status reports.
    const offStatus = app.broker.router.on('status', (message) => rollouts.onStatus(message.deviceId));
    await app.register(rolloutRoutes);
    app.addHook('onReady', async () => rollouts.open());
    app.addHook('onClose', async () => {
      offStatus();
      await rollouts.close();
    });
  },
  {
    name: 'fedfleet-rollouts',
    dependencies: ['fedfleet-models', 'fedfleet-fleet', 'fedfleet-broker', 'fedfleet-commands', 'fedfleet-events', 'fedfleet-audit'],
  },
);
