/**
 * Decorates `hub.quantizations` (quantization-jobs.ts) and serves its routes. On ready it routes calibration
 * replies, fails the jobs a previous process left unfinished and starts those completed campaigns asked for
 * (campaign-quantization.ts); on close it stops them before the plugins it uses (commands, store) close.
 */
import fp from 'fastify-plugin';
import '../hub-context.js';
import '../audit/audit-plugin.js';
import '../commands/commands-plugin.js';
import '../datasets/datasets-plugin.js';
import '../fleet/fleet-plugin.js';
import '../models/models-plugin.js';
import '../rounds/rounds-plugin.js';
import { CampaignQuantizations } from './campaign-quantization.js';
import { QuantizationJobs } from './quantization-jobs.js';
import { quantizationRoutes } from './routes/quantization-routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Quantization jobs: a version's int8 .tflite, calibrated on the fleet or a data set. */
    quantizations: QuantizationJobs;
  }
}

export const quantizePlugin = fp(
  async (app) => {
    const jobs = new QuantizationJobs({
      store: app.store, registry: app.models, datasets: app.datasets, devices: app.fleet.devices, presence: app.fleet.presence,
      holds: app.coordinator.holds, commands: app.commands, audit: app.audit, events: app.events,
      clock: app.clock, log: app.log.child({ component: 'quantize' }),
    });
    // The quantizations completed campaigns asked for: on ready after the jobs (interrupted ones failed first).
    const campaigns = new CampaignQuantizations({
      rounds: app.coordinator.rounds, jobs, store: app.store, audit: app.audit, events: app.events, clock: app.clock, log: app.log.child({ component: 'quantize' }),
    });
    app.decorate('quantizations', jobs);
    await app.register(quantizationRoutes);
    app.addHook('onReady', async () => {
      jobs.open();
      campaigns.open();
    });
    app.addHook('onClose', async () => {
      await campaigns.close();
      await jobs.close();
    });
  },
  {
    name: 'fedfleet-quantize',
    dependencies: ['fedfleet-models', 'fedfleet-datasets', 'fedfleet-fleet', 'fedfleet-commands', 'fedfleet-events', 'fedfleet-audit', 'fedfleet-rounds'],
  },
);
