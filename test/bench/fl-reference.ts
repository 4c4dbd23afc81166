/**
 * The in-process reference of the federated run: the same initial weights, selection, data, local training,
 * compression and aggregation code as the system, with no hub, broker or process boundary. Each step below names
 * the system code it mirrors; if the system and this drift apart, one of these has changed.
 */
import {
  TensorEncoding, decodeModelBlob, decodeWeights, encodeModelBlob, encodeWeights, hashSeed, mulberry32, type ModelWeights,
} from '@fedfleet/proto';
import {
  evaluate, initBackend, mnistDataSource, mnistGlobal, trainCentral, trainLocal, type DataSource, type PartitionScheme,
} from '@fedfleet/agent/ml';
import { createInitialModel } from '../../hub/src/models/architectures.js';
import { selectParticipants } from '../../hub/src/rounds/selection.js';
import { createStrategy, type ClientUpdate } from '../../hub/src/rounds/strategies/index.js';
import { pct, type BenchOutput } from './bench-output.js';
import { clientsPerRound, deviceName, type Compression, type FlBenchOptions } from './fl-options.js';

const ENCODING: Record<Compression, number> = {
  none: TensorEncoding.TENSOR_ENCODING_FP32,
  fp16: TensorEncoding.TENSOR_ENCODING_FP16,
  int8: TensorEncoding.TENSOR_ENCODING_INT8,
};

/**
 * Ids the system generated, when known. The agent seeds the stochastic rounding of its int8 update with
 * `hashSeed("<deviceId>/<roundId>")` (agent/src/commands/train.ts), and both ids are hub-generated UUIDs; with them
 * the reference rounds exactly like the devices did, without them it draws its own (equally unbiased) noise.
 */
export interface SystemIds {
  deviceIds: ReadonlyMap<string, string>;
  roundIds: readonly string[];
}

export interface ReferenceRound {
  number: number;
  accuracy: number;
  loss: number;
  /** Names of the selected devices, sorted. */
  participants: string[];
  /** Σ examples × epochs trained this round. */
  samplePasses: number;
  weights: ModelWeights;
}

export interface ReferenceResult {
  rounds: ReferenceRound[];
  initialWeights: ModelWeights;
  initialAccuracy: number;
  wallSec: number;
}

export function fleetDataSources(o: FlBenchOptions): DataSource[] {
  // firmware-sim: SimFleet → dataSourceFromSpec(`mnist:<partition>`, { index, devices: fleetSize, seed }) →
  // mnistDataSource with the sim's --seed, which the bench sets to --seed.
  return Array.from({ length: o.clients }, (_, index) =>
    mnistDataSource({ devices: o.clients, index, partition: o.partition as PartitionScheme, seed: o.seed }));
}

export async function runReference(o: FlBenchOptions, out: BenchOutput, ids?: SystemIds): Promise<ReferenceResult> {
  const start = performance.now();
  await initBackend(); // the agent's default, 'auto': wasm here
  const test = mnistGlobal().test;
  const sources = fleetDataSources(o);
  // POST /v1/models → createInitialModel(architecture, seed).
  const initial = createInitialModel(o.model, o.seed);
  const { topologyJson } = initial;
  // Coordinator.startCampaign → createStrategy(strategy, strategyOptions); the client side gets clientConfig().
  const strategy = createStrategy(o.strategy, o.strategyOptions);
  let state: Uint8Array | null = null;
  // TrainTask fields are protobuf floats (fleet.proto): the device sees them rounded to float32.
  const learningRate = Math.fround(o.lr);
  const proximalMu = Math.fround(strategy.clientConfig().proximalMu);
  const encoding = ENCODING[o.compression];
  const k = clientsPerRound(o);
  const candidates = Array.from({ length: o.clients }, (_, i) => ({ id: deviceName(i), name: deviceName(i) }));
  const indexOf = new Map(candidates.map((c, i) => [c.name, i]));

  let global = initial.weights;
  const initialAccuracy = (await evaluate({ topologyJson, weights: global, data: test })).accuracy;
  const rounds: ReferenceRound[] = [];
  for (let number = 1; number <= o.rounds; number++) {
    // Coordinator.select → selectParticipants over the eligible devices (the hub sorts them by name).
    const plan = selectParticipants(candidates, { clients: k, overSelect: 1, seed: o.seed, roundNumber: number });
    // Coordinator.modelRef / ModelRegistry.downlinkArtifact: the device trains from the decoded downlink blob.
    const base = o.compression === 'none'
      ? global
      : decodeModelBlob(encodeModelBlob({ topologyJson, weights: global }, encoding)).weights;
    // Coordinator.sendTrainTask: seed (campaign seed × 1,000,003 + round number) >>> 0.
    const seed = (o.seed * 1_000_003 + number) >>> 0;
    const roundId = ids?.roundIds[number - 1] ?? `reference-round-${number}`;
    const updates: ClientUpdate[] = [];
    let samplePasses = 0;
    for (const name of plan.selected) {
      // agent/src/commands/train.ts: trainLocal on the device's data, then encode the delta.
      const result = await trainLocal({
        topologyJson, weights: base, data: sources[indexOf.get(name)!]!, epochs: o.epochs, batchSize: o.batch, learningRate,
        proximalMu, seed, evaluate: false,
      });
      const deviceId = ids?.deviceIds.get(name) ?? name;
      const tensors = encodeWeights(result.delta, encoding, { stochastic: true, rng: mulberry32(hashSeed(`${deviceId}/${roundId}`)) });
      // validateUpdate: decode, then the tensor names are the model's.
      const delta = decodeWeights(tensors).map((t, i) => ({ ...t, name: global[i]!.name }));
      updates.push({ deviceId, exampleCount: result.exampleCount, delta });
      samplePasses += result.exampleCount * o.epochs;
    }
    // Coordinator.aggregate: loadState → begin(base) → add in participant order (ORDER BY device_id) → finish.
    updates.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
    strategy.loadState(state);
    const aggregator = strategy.begin(global);
    for (const update of updates) aggregator.add(update);
    global = aggregator.finish();
    state = strategy.saveState();
    const result = await evaluate({ topologyJson, weights: global, data: test });
    rounds.push({ number, accuracy: result.accuracy, loss: result.loss, participants: [...plan.selected].sort(), samplePasses, weights: global });
    out.progress('reference rounds', number, o.rounds);
    if (!ids) out.line(`reference round ${String(number).padStart(3)}/${o.rounds}: accuracy ${pct(result.accuracy)}`);
  }
  out.endProgress();
  return { rounds, initialWeights: initial.weights, initialAccuracy, wallSec: (performance.now() - start) / 1000 };
}

export interface CentralResult {
  accuracy: number;
  epochs: number;
  samplePasses: number;
  wallSec: number;
}

/**
 * The same model trained centrally on the union of every device's training data, for as many sample passes as
 * the federated run made (rounds × clients × E × examples per client), rounded to whole epochs.
 */
export async function runCentral(o: FlBenchOptions, samplePasses: number): Promise<CentralResult> {
  const start = performance.now();
  await initBackend();
  const parts = fleetDataSources(o);
  const trainCount = parts.reduce((n, p) => n + p.describe().trainCount, 0);
  const epochs = Math.max(1, Math.round(samplePasses / trainCount));
  const initial = createInitialModel(o.model, o.seed);
  const result = await trainCentral({
    topologyJson: initial.topologyJson, weights: initial.weights, parts, test: mnistGlobal().test, epochs, batchSize: o.batch,
    learningRate: Math.fround(o.lr), seed: o.seed,
  });
  return { accuracy: result.metrics.accuracyAfter, epochs, samplePasses: epochs * trainCount, wallSec: (performance.now() - start) / 1000 };
}

/** Largest |a − b| over every weight. */
export function maxWeightDiff(a: ModelWeights, b: ModelWeights): number {
  let max = 0;
  for (let t = 0; t < a.length; t++) {
    const x = a[t]!.data;
    const y = b[t]!.data;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i]! - y[i]!);
      if (d > max) max = d;
    }
  }
  return max;
}
