/**
 * Decorates `hub.loop` (policies and the engine, hub/docs/loop.md) and serves `/v1/loop-policies`. On ready — after
 * the rounds and rollouts resumed what they had — the engine subscribes and picks up the runs a previous process
 * left; on close it stops listening before the capabilities it drives close.
 */
import fp from 'fastify-plugin';
import '../hub-context.js';
import '../audit/audit-plugin.js';
import '../fleet/fleet-plugin.js';
import '../health/health-plugin.js';
import '../models/models-plugin.js';
import '../quality/quality-plugin.js';
import '../rollouts/rollouts-plugin.js';
import '../rounds/rounds-plugin.js';
import { LoopEngine } from './loop-engine.js';
import { createLoopPolicies, type LoopPolicies } from './loop-policies.js';
import { createLoopRepo } from './loop-repo.js';
import { loopPolicyRoutes } from './routes/loop-policy-routes.js';

export interface Loop {
  readonly policies: LoopPolicies;
  readonly engine: LoopEngine;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Closed-loop policies: drift alerts → federated campaign → canary rollout. */
    loop: Loop;
  }
}

export const loopPlugin = fp(
  async (app) => {
    const repo = createLoopRepo(app.store.db);
    const policies = createLoopPolicies({ repo, registry: app.models, audit: app.audit, clock: app.clock });
    const engine = new LoopEngine({
      repo, policies, store: app.store, registry: app.models, devices: app.fleet.devices, alerts: app.health.alerts, quality: app.quality,
      coordinator: app.coordinator, rollouts: app.rollouts, audit: app.audit, events: app.events, clock: app.clock,
      log: app.log.child({ component: 'loop' }), enabled: app.config.loopEnabled,
    });
    app.decorate('loop', { policies, engine });
    await app.register(loopPolicyRoutes);
    app.addHook('onReady', async () => engine.start());
    app.addHook('onClose', async () => engine.close());
  },
  {
    name: 'fedfleet-loop',
    dependencies: ['fedfleet-rounds', 'fedfleet-rollouts', 'fedfleet-health', 'fedfleet-quality', 'fedfleet-fleet', 'fedfleet-models', 'fedfleet-audit', 'fedfleet-events'],
  },
);
