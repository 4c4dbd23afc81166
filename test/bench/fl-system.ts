/**
 * The federated run through the system: a hub child process, the fleet in `fedfleet sim` child processes, the
 * model created and the campaign started through the HTTP API. Every committed version is downloaded and
 * evaluated here, on the 2,000 global test digits.
 */
import { decodeModelBlob, type ModelWeights } from '@fedfleet/proto';
import { evaluate, initBackend, mnistGlobal } from '@fedfleet/agent/ml';
import type { CampaignDetailJson } from '../../hub/src/rounds/schemas.js';
import { startHubProcess } from '../support/hub-process.js';
import { startSimProcesses } from '../support/sim-processes.js';
import { formatBytes, pct, type BenchOutput } from './bench-output.js';
import { clientsPerRound, type FlBenchOptions } from './fl-options.js';

export interface SystemRound {
  number: number;
  roundId: string;
  /** Global model after this round, on the 2,000 test digits. */
  accuracy: number;
  loss: number;
  /** Fleet-weighted federated evaluation on the devices' held-out data (with --fed-eval), else null. */
  federatedAccuracy: number | null;
  /** Names of the devices that trained, sorted. */
  participants: string[];
  bytesDown: number;
  bytesUp: number;
  durationMs: number | null;
  rejectedUpdates: number;
  /** The committed global weights (for the reference comparison). */
  weights: ModelWeights;
}

export interface SystemResult {
  rounds: SystemRound[];
  /** Device id by name (the agent seeds its stochastic rounding with `<deviceId>/<roundId>`). */
  deviceIds: Map<string, string>;
  /** Version 1 created through the API, to check it against `createInitialModel`. */
  initialWeights: ModelWeights;
  bytesDown: number;
  bytesUp: number;
  setupSec: number;
  /** POST /v1/rounds → campaign completed. */
  wallSec: number;
  campaignId: string;
}

interface ModelCreated {
  model: { id: string; name: string };
  version: { id: string; version: number };
}

const POLL_MS = 300;

export async function runSystem(o: FlBenchOptions, out: BenchOutput): Promise<SystemResult> {
  const setupStart = performance.now();
  await initBackend();
  const test = mnistGlobal().test;
  out.note(`system: starting the hub and ${o.clients} simulated devices in ${o.simProcesses} sim process(es)…`);
  const hub = await startHubProcess({ echo: o.verbose });
  try {
    out.note(`system: hub ${hub.httpUrl} (MQTT ${hub.mqttUrl}), data ${hub.dataDir}`);
    const sims = await startSimProcesses(hub, {
      devices: o.clients, processes: o.simProcesses, data: `mnist:${o.partition}`, seed: o.seed, echo: o.verbose,
    });
    try {
      const { api } = hub;
      const devices = await api.request<{ id: string; name: string }[]>('GET', '/v1/devices?selector=sim%3Dtrue');
      const deviceIds = new Map(devices.map((d) => [d.name, d.id]));
      const created = await api.request<ModelCreated>('POST', '/v1/models', { name: `bench-${o.model}`, architecture: o.model, seed: o.seed });
      const modelId = created.model.id;
      const initialWeights = decodeModelBlob(await api.bytes(`/v1/models/${modelId}/versions/1/artifact`)).weights;
      const setupSec = (performance.now() - setupStart) / 1000;
      out.note(`system: ${deviceIds.size} devices online, model ${created.model.name} created (${setupSec.toFixed(1)} s)`);

      const k = clientsPerRound(o);
      const campaignStart = performance.now();
      const campaign = await api.request<CampaignDetailJson>('POST', '/v1/rounds', {
        model: modelId, selector: 'sim=true', rounds: o.rounds, clients: k, minClients: k, overSelect: 1,
        deadlineSec: o.deadlineSec, selectionTimeoutSec: 120, evaluate: o.fedEval, epochs: o.epochs, batchSize: o.batch,
        learningRate: o.lr, strategy: o.strategy, strategyOptions: o.strategyOptions, compression: o.compression, seed: o.seed,
      });
      const rounds: SystemRound[] = [];
      let detail = campaign;
      for (;;) {
        for (const r of detail.rounds) {
          if (r.state !== 'committed' || r.number <= rounds.length) continue;
          const blob = await api.bytes(`/v1/models/${modelId}/versions/${encodeURIComponent(r.resultVersionId!)}/artifact`);
          const { topologyJson, weights } = decodeModelBlob(blob);
          const result = await evaluate({ topologyJson, weights, data: test });
          const round: SystemRound = {
            number: r.number, roundId: r.id, accuracy: result.accuracy, loss: result.loss, federatedAccuracy: r.accuracy,
            participants: r.participants.filter((p) => p.state === 'updated').map((p) => p.deviceName ?? p.deviceId).sort(),
            bytesDown: r.bytesDown, bytesUp: r.bytesUp, durationMs: r.durationMs, rejectedUpdates: r.rejectedUpdates, weights,
          };
          rounds.push(round);
          out.line(`system round ${String(r.number).padStart(3)}/${o.rounds}: accuracy ${pct(round.accuracy)}` +
            `${round.federatedAccuracy !== null ? ` (federated ${pct(round.federatedAccuracy)})` : ''}  updates ${r.updates}/${r.targetClients}` +
            `  ↓${formatBytes(r.bytesDown)} ↑${formatBytes(r.bytesUp)}  ${((r.durationMs ?? 0) / 1000).toFixed(1)} s` +
            `${r.rejectedUpdates ? `  rejected ${r.rejectedUpdates}` : ''}`);
          out.progress('system rounds', rounds.length, o.rounds);
        }
        if (detail.state !== 'running' && rounds.length >= detail.rounds.filter((r) => r.state === 'committed').length) break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        detail = await api.request<CampaignDetailJson>('GET', `/v1/rounds/${campaign.id}`);
      }
      const wallSec = (performance.now() - campaignStart) / 1000;
      out.endProgress();
      if (detail.state !== 'completed') {
        const failed = detail.rounds.find((r) => r.state === 'failed');
        throw new Error(`campaign ${detail.state}: ${detail.error ?? failed?.error ?? 'unknown'}` +
          `${failed ? ` (round ${failed.number}: ${failed.participants.map((p) => `${p.deviceName} ${p.state}${p.reason ? ` ${p.reason}` : ''}`).join(', ')})` : ''}`);
      }
      return {
        rounds, deviceIds, initialWeights, bytesDown: detail.bytesDown, bytesUp: detail.bytesUp, setupSec, wallSec, campaignId: campaign.id,
      };
    } finally {
      await sims.stop();
    }
  } catch (error) {
    out.note(`system: hub output:\n${hub.child.tail(40)}`);
    throw error;
  } finally {
    await hub.stop();
  }
}
