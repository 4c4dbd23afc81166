/**
 * `npm run demo`: the whole system in about a minute. Starts a hub (temporary data directory, ports the OS picks),
 * a fleet of 20 simulated devices in a separate process, creates a model and runs a short federated campaign
 * through the HTTP API, printing the accuracy of every round, then shuts everything down.
 *
 *   npm run demo -- [--devices 20] [--data mnist:iid|mnist:shards] [--rounds 5] [--clients 5] [--epochs 2]
 */
import { parseArgs } from 'node:util';
import { mnistGlobal } from '@fedfleet/agent/ml';
import { encodeFloat32Le } from '@fedfleet/proto';
import type { CampaignDetailJson } from '../../hub/src/rounds/schemas.js';
import { stopAllChildren } from '../support/children.js';
import { startHubProcess } from '../support/hub-process.js';
import { startSimProcesses } from '../support/sim-processes.js';

const POLL_MS = 500;

const pct = (x: number | null) => (x === null ? '   -  ' : `${(100 * x).toFixed(2)}%`);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

function log(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '20' }, data: { type: 'string', default: 'mnist:iid' }, rounds: { type: 'string', default: '5' },
      clients: { type: 'string', default: '5' }, epochs: { type: 'string', default: '2' }, verbose: { type: 'boolean', default: false },
    },
  });
  const devices = Number(values.devices);
  const rounds = Number(values.rounds);
  const clients = Number(values.clients);
  const epochs = Number(values.epochs);
  const startedMs = Date.now();

  log('fedfleet demo: a hub, a simulated fleet and a federated campaign, all on this machine');
  const hub = await startHubProcess({ echo: values.verbose });
  try {
    log(`  hub          ${hub.httpUrl}   (API docs: ${hub.httpUrl}/docs)`);
    log(`  MQTT broker  ${hub.mqttUrl}`);
    log(`  data         ${hub.dataDir} (temporary)`);
    log(`starting ${devices} simulated Raspberry Pi Zero 2 W devices (${values.data}) in a separate process…`);
    const sims = await startSimProcesses(hub, { devices, processes: 1, data: values.data, seed: 1, echo: values.verbose });
    try {
      const health = await hub.api.request<{ total: number; byStatus: { online: number } }>('GET', '/v1/fleet/health');
      log(`  fleet        ${health.byStatus.online}/${health.total} devices online`);
      const created = await hub.api.request<{ model: { id: string; name: string; paramCount: number } }>('POST', '/v1/models', {
        name: 'demo-2nn', architecture: 'mnist-2nn', seed: 1,
      });
      log(`  model        ${created.model.name}: the FedAvg paper's 2NN, ${created.model.paramCount.toLocaleString('en-US')} parameters`);
      // One fixed yardstick for every round at the hub: the 2,000 MNIST test digits no device trains on.
      const { test } = mnistGlobal();
      const validation = await hub.api.request<{ name: string; examples: number }>('POST', '/v1/datasets', {
        name: 'mnist-test', inputShape: test.inputShape, numClasses: test.numClasses,
        xBase64: Buffer.from(encodeFloat32Le(test.x)).toString('base64'), yBase64: Buffer.from(test.y).toString('base64'),
      });
      log(`  validation   ${validation.name}: ${validation.examples} held-out digits, evaluated at the hub after every round`);
      const campaign = await hub.api.request<CampaignDetailJson>('POST', '/v1/rounds', {
        model: created.model.id, selector: 'sim=true', rounds, clients, epochs, batchSize: 10, learningRate: 0.05, seed: 1, validationSet: validation.name,
      });
      log(`campaign ${campaign.id}: ${rounds} rounds, ${clients} clients per round (over-selected ×${String(campaign.config.overSelect)}), ` +
        `E=${epochs}, B=10, FedAvg; accuracy = federated evaluation on the participants' held-out digits, validation = the hub's`);
      let detail = campaign;
      let reported = 0;
      for (;;) {
        for (const r of detail.rounds.filter((x) => x.state === 'committed' && x.number > reported)) {
          reported = r.number;
          log(`  round ${r.number}/${rounds}  accuracy ${pct(r.accuracy)}  validation ${pct(r.hubAccuracy)}  loss ${r.loss?.toFixed(3) ?? '-'}  updates ${r.updates}/${r.targetClients}` +
            `  ↓${mib(r.bytesDown)} ↑${mib(r.bytesUp)}  ${((r.durationMs ?? 0) / 1000).toFixed(1)} s`);
        }
        if (detail.state !== 'running') break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        detail = await hub.api.request<CampaignDetailJson>('GET', `/v1/rounds/${campaign.id}`);
      }
      if (detail.state !== 'completed') {
        log(`campaign ${detail.state}: ${detail.error ?? 'unknown error'}`);
        return 1;
      }
      const model = await hub.api.request<{ latestVersion: number }>('GET', `/v1/models/${created.model.id}`);
      log(`campaign completed: final accuracy ${pct(detail.accuracy.at(-1) ?? null)} (validation ${pct(detail.hubAccuracy.at(-1) ?? null)}), model ${created.model.name} is at version ` +
        `${model.latestVersion}, ${mib(detail.bytesDown + detail.bytesUp)} moved over MQTT`);
    } finally {
      log('shutting down the fleet and the hub…');
      await sims.stop();
    }
  } finally {
    await hub.stop();
  }
  log(`done in ${((Date.now() - startedMs) / 1000).toFixed(0)} s`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    process.stderr.write(`demo failed: ${(error as Error).stack ?? String(error)}\n`);
    await stopAllChildren();
    process.exitCode = 1;
  },
);
