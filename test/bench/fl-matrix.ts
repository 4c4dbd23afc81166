/**
 * Runs the measurements behind test/bench/results/README.md one after the other (each a full `bench:fl` with its
 * own hub and sims), saving each JSON line as results/fl-<partition>-<strategy>-<compression>-r<rounds>.json, then
 * rebuilds the table (there and in test/docs/benchmarks.md).
 *
 *   npx tsx test/bench/fl-matrix.ts [--only <text>] [--skip-existing] [--list]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeResultsTable } from './fl-table.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const FL = fileURLToPath(new URL('./fl.ts', import.meta.url));

interface Run {
  partition: string;
  strategy: string;
  compression: string;
  rounds: number;
  strategyOpt?: string;
  /** The centralized baseline depends only on partition and rounds: measured once per pair, by the fedavg run. */
  central: boolean;
}

const STRATEGIES: { strategy: string; strategyOpt?: string }[] = [
  { strategy: 'fedavg' }, { strategy: 'fedprox', strategyOpt: 'proximalMu=0.01' }, { strategy: 'fedavgm' }, { strategy: 'fedadam' },
  { strategy: 'fedmedian' }, { strategy: 'fedtrimmedavg' }, { strategy: 'krum' },
];

const RUNS: Run[] = [
  { partition: 'iid', strategy: 'fedavg', compression: 'none', rounds: 30, central: true },
  { partition: 'iid', strategy: 'fedavg', compression: 'int8', rounds: 30, central: false },
  { partition: 'iid', strategy: 'fedavg', compression: 'fp16', rounds: 30, central: false },
  { partition: 'shards', strategy: 'fedavg', compression: 'none', rounds: 60, central: true },
  { partition: 'shards', strategy: 'fedavg', compression: 'int8', rounds: 30, central: false },
  { partition: 'shards', strategy: 'fedavg', compression: 'fp16', rounds: 30, central: false },
  // The strategy matrix at 30 rounds on both partitions (30 rather than 60 for shards, to save time).
  ...['iid', 'shards'].flatMap((partition) => STRATEGIES.map((s) => ({
    partition, ...s, compression: 'none', rounds: 30, central: s.strategy === 'fedavg' && partition === 'shards',
  }))).filter((r) => !(r.partition === 'iid' && r.strategy === 'fedavg')),
];

function resultFile(r: Pick<Run, 'partition' | 'strategy' | 'compression' | 'rounds'>): string {
  return `${RESULTS_DIR}fl-${r.partition.replace(':', '')}-${r.strategy}-${r.compression}-r${r.rounds}.json`;
}

function argsOf(r: Run): string[] {
  const args = ['--partition', r.partition, '--strategy', r.strategy, '--compression', r.compression, '--rounds', String(r.rounds), '--out', resultFile(r)];
  if (r.strategyOpt) args.push('--strategy-opt', r.strategyOpt);
  if (!r.central) args.push('--no-central');
  return args;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, 'skip-existing': { type: 'boolean' }, list: { type: 'boolean' } } });
  const runs = RUNS.filter((r) => !values.only || resultFile(r).includes(values.only))
    .filter((r) => !values['skip-existing'] || !existsSync(resultFile(r)));
  for (const [i, r] of runs.entries()) {
    const args = argsOf(r);
    process.stderr.write(`\n=== [${i + 1}/${runs.length}] bench:fl ${args.join(' ')}\n`);
    if (values.list) continue;
    const code = await new Promise<number | null>((resolve) => {
      spawn(process.execPath, ['--import', 'tsx', FL, ...args], { stdio: 'inherit' }).on('exit', resolve);
    });
    if (code !== 0) process.stderr.write(`=== failed with exit code ${code}\n`);
  }
  if (!values.list) process.stderr.write(`table: ${await writeResultsTable()}\n`);
  return 0;
}

void main().then((code) => (process.exitCode = code));
