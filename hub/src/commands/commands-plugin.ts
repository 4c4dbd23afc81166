/**
 * Decorates `hub.commands`: sending commands to devices on behalf of other capabilities, routing the devices'
 * replies back to whoever sent them, re-sending what a device is owed when it comes back online (device-commands.ts).
 * Federated rounds are its first user. Grants devices the artifacts their commands name (hub.store.grants), which is
 * all the fetch handler serves them. Stops with the hub, after its users (they close first).
 */
import fp from 'fastify-plugin';
import '../hub-context.js';
import '../broker/broker-plugin.js';
import '../events/events-plugin.js';
import '../store/store-plugin.js';
import { createDeviceCommands, type DeviceCommands } from './device-commands.js';

declare module 'fastify' {
  interface FastifyInstance {
    commands: DeviceCommands;
  }
}

export const commandsPlugin = fp(
  async (app) => {
    const commands = createDeviceCommands({
      router: app.broker.router, broker: app.broker, events: app.events, grants: app.store.grants,
      log: app.log.child({ component: 'commands' }),
    });
    app.decorate('commands', commands);
    app.addHook('onClose', async () => commands.stop());
  },
  { name: 'fedfleet-commands', fastify: '5.x', dependencies: ['fedfleet-store', 'fedfleet-broker', 'fedfleet-events'] },
);
