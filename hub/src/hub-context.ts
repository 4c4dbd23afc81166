/** Decorators every hub plugin can rely on: the frozen configuration and the injected clock. */
import type { Clock } from './clock.js';
import type { HubConfig } from './config.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The validated, frozen hub configuration. */
    config: HubConfig;
    /** The hub's time source (tests inject a manual clock). */
    clock: Clock;
  }
  interface FastifyContextConfig {
    /** The route needs no admin token. */
    public?: boolean;
    /** The admin token may come as `?token=` (for EventSource, which cannot send headers). */
    allowQueryToken?: boolean;
  }
}

export {};
