/**
 * `npm run bench:aggregate`: the hub's aggregation strategies on updates of the FedAvg paper's 2NN (199,210
 * parameters) for growing client counts — time per update and peak memory above the starting point — side by side
 * with the list-based FedAvg that Flower runs (flwr/server/strategy/aggregate.py `aggregate`: every client's
 * weights in a list, a weighted copy of each, then the sum), on the same updates in the same run.
 *
 *   node --expose-gc --import tsx test/bench/aggregate.ts [--clients 10,100,1000] [--strategies fedavg,fedmedian,…]
 *
 * The anchor is the design's claim (DESIGN §4): streamed FedAvg needs O(parameters) memory however many clients,
 * where the list-based rule needs O(clients × parameters). Lines on stdout; the last line is one JSON object.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { mulberry32, type ModelWeights } from '@fedfleet/proto';
import { createStrategy } from '../../hub/src/rounds/strategies/index.js';
import type { StrategyName } from '../../hub/src/rounds/strategies/strategy.js';
import { BenchOutput, formatBytes } from './bench-output.js';

/** mnist-2nn (784-200-200-10) in `model.getWeights()` order: kernel, bias per dense layer. */
const SHAPES: number[][] = [[784, 200], [200], [200, 200], [200], [200, 10], [10]];
const PARAMS = SHAPES.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);

/** Peak-memory probe: typed arrays live outside the JS heap, so both heap and array buffers count. */
function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

/** Memory still reachable: after a collection. */
function retained(): number {
  collect();
  return memory();
}

/** Client k's update, the same in every run: small seeded noise and an example count between 50 and 600. */
function update(k: number): { deviceId: string; exampleCount: number; delta: ModelWeights } {
  const rng = mulberry32(1000 + k);
  const delta = SHAPES.map((shape, t) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (rng() - 0.5) * 0.02;
    return { name: `t${t}`, shape, data };
  });
  return { deviceId: `dev-${k}`, exampleCount: 50 + Math.floor(rng() * 551), delta };
}

interface Measurement {
  rule: string;
  clients: number;
  /** Milliseconds inside the aggregation (adding updates and finishing), not generating updates. */
  aggregateMs: number;
  msPerUpdate: number;
  /**
   * Largest memory held above the level before the first update: sampled after a full collection following every
   * update (so garbage the generator leaves does not count), and during and after finishing.
   */
  peakBytes: number;
  /** max |result − streamed FedAvg's result| (same updates), for the list-based FedAvg. */
  maxDiffToFedavg?: number;
}

function zeros(): ModelWeights {
  return SHAPES.map((shape, t) => ({ name: `t${t}`, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }));
}

function runStrategy(name: StrategyName, clients: number, options: Record<string, number>): { m: Measurement; result: ModelWeights } {
  collect();
  const base = memory();
  let peak = 0;
  let ms = 0;
  const aggregator = createStrategy(name, options).begin(zeros());
  for (let k = 0; k < clients; k++) {
    const u = update(k);
    const t0 = performance.now();
    aggregator.add(u);
    ms += performance.now() - t0;
    peak = Math.max(peak, retained() - base);
  }
  const t0 = performance.now();
  const result = aggregator.finish();
  ms += performance.now() - t0;
  peak = Math.max(peak, memory() - base);
  return { m: { rule: name, clients, aggregateMs: round(ms), msPerUpdate: round(ms / clients, 3), peakBytes: peak }, result };
}

/**
 * Flower's `aggregate(results)`: num_examples_total = Σ nₖ; weighted_weights = [[layer × nₖ for layer] for each
 * client]; weights_prime = [Σ layer_updates / num_examples_total for each layer]. The client list is built first,
 * as Flower receives it (every result of the round in memory), then aggregated.
 */
function runListFedavg(clients: number): { m: Measurement; result: ModelWeights } {
  collect();
  const base = memory();
  let peak = 0;
  const results: { weights: Float32Array[]; n: number }[] = [];
  for (let k = 0; k < clients; k++) {
    const u = update(k);
    results.push({ weights: u.delta.map((t) => t.data), n: u.exampleCount });
    peak = Math.max(peak, retained() - base);
  }
  const t0 = performance.now();
  const total = results.reduce((s, r) => s + r.n, 0);
  const weighted = results.map((r) => r.weights.map((layer) => layer.map((x) => x * r.n)));
  peak = Math.max(peak, memory() - base);
  const prime = SHAPES.map((_, t) => {
    const sum = new Float64Array(weighted[0]![t]!.length);
    for (const w of weighted) {
      const layer = w[t]!;
      for (let i = 0; i < sum.length; i++) sum[i]! += layer[i]!;
    }
    return Float32Array.from(sum, (x) => x / total);
  });
  const ms = performance.now() - t0;
  peak = Math.max(peak, memory() - base);
  const result = SHAPES.map((shape, t) => ({ name: `t${t}`, shape, data: prime[t]! }));
  return { m: { rule: 'list-fedavg (Flower)', clients, aggregateMs: round(ms), msPerUpdate: round(ms / clients, 3), peakBytes: peak }, result };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function maxDiff(a: ModelWeights, b: ModelWeights): number {
  let d = 0;
  for (let t = 0; t < a.length; t++) {
    const x = a[t]!.data;
    const y = b[t]!.data;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  }
  return d;
}

const DEFAULT_CLIENTS = '10,100,1000';
const DEFAULT_STRATEGIES = 'fedavg,fedmedian,fedtrimmedavg,krum';
/** Buffering rules hold every update (and Krum compares every pair): beyond this many clients they are skipped. */
const BUFFERED_MAX_CLIENTS = 100;

function main(): number {
  const { values } = parseArgs({
    options: { clients: { type: 'string', default: DEFAULT_CLIENTS }, strategies: { type: 'string', default: DEFAULT_STRATEGIES }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write('Usage: npm run bench:aggregate -- [--clients 10,100,1000] [--strategies fedavg,fedmedian,fedtrimmedavg,krum]\n');
    return 0;
  }
  if (!(globalThis as { gc?: () => void }).gc) process.stderr.write('warning: run with node --expose-gc for steady memory figures\n');
  const clientCounts = values.clients.split(',').map(Number);
  const strategies = values.strategies.split(',') as StrategyName[];
  const out = new BenchOutput();
  out.note(`bench:aggregate mnist-2nn (${PARAMS.toLocaleString('en-US')} parameters, ${formatBytes(PARAMS * 4)} per fp32 update), clients ${clientCounts.join(', ')}`);
  const measurements: Measurement[] = [];
  const print = (m: Measurement) => out.line(`${m.rule.padEnd(22)} ${String(m.clients).padStart(5)} clients  ${String(m.aggregateMs).padStart(9)} ms` +
    `  ${String(m.msPerUpdate).padStart(8)} ms/update  peak +${formatBytes(m.peakBytes)}${m.maxDiffToFedavg !== undefined ? `  max |Δ| to fedavg ${m.maxDiffToFedavg.toExponential(1)}` : ''}`);
  const steps = clientCounts.length * (strategies.length + 1);
  let step = 0;
  for (const clients of clientCounts) {
    let fedavgResult: ModelWeights | undefined;
    for (const name of strategies) {
      out.progress(`${name} × ${clients}`, step++, steps);
      if (name !== 'fedavg' && name !== 'fedprox' && clients > BUFFERED_MAX_CLIENTS) continue;
      // Krum as a selection rule among honest clients: f = 0 keeps it defined for any n ≥ 3.
      const { m, result } = runStrategy(name, clients, {});
      if (name === 'fedavg') fedavgResult = result;
      measurements.push(m);
      print(m);
    }
    out.progress(`list-fedavg × ${clients}`, step++, steps);
    const list = runListFedavg(clients);
    if (fedavgResult) list.m.maxDiffToFedavg = maxDiff(list.result, fedavgResult);
    measurements.push(list.m);
    print(list.m);
  }
  out.endProgress();
  const at = (rule: string, clients: number) => measurements.find((m) => m.rule === rule && m.clients === clients);
  const largest = Math.max(...clientCounts);
  const streamed = at('fedavg', largest);
  const listed = at('list-fedavg (Flower)', largest);
  const summary = {
    bench: 'aggregate',
    model: 'mnist-2nn',
    params: PARAMS,
    updateBytes: PARAMS * 4,
    measurements,
    largestClients: largest,
    peakRatioListOverStreamed: streamed && listed ? round(listed.peakBytes / Math.max(1, streamed.peakBytes), 1) : null,
    anchor: 'DESIGN §4: streamed FedAvg in O(parameters) memory; peer: Flower aggregate() over the list of all results, O(clients × parameters)',
    machine: { cpus: cpus().length, node: process.version },
    date: new Date().toISOString(),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

process.exitCode = main();
