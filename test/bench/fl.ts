/**
 * `npm run bench:fl`: the FedAvg paper protocol (McMahan et al. 2017) through the system — hub and simulated
 * devices in separate processes — next to an in-process reference with the same seeds and a centrally trained
 * baseline. Per-round lines on stdout; the last stdout line is one JSON object. Options: `--help`.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stopAllChildren } from '../support/children.js';
import { BenchOutput } from './bench-output.js';
import { FL_USAGE, UsageError, clientsPerRound, parseFlOptions } from './fl-options.js';
import { runCentral, runReference, type CentralResult, type ReferenceResult } from './fl-reference.js';
import { report } from './fl-report.js';
import { runSystem } from './fl-system.js';

async function main(): Promise<number> {
  let o;
  try {
    o = parseFlOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n${FL_USAGE}`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(FL_USAGE);
    return 0;
  }
  const out = new BenchOutput();
  out.note(`bench:fl ${o.model} ${o.partition} ${o.strategy}${Object.keys(o.strategyOptions).length ? ` ${JSON.stringify(o.strategyOptions)}` : ''} ` +
    `compression ${o.compression}: ${o.rounds} rounds, ${o.clients} clients, C=${o.fraction}, E=${o.epochs}, B=${o.batch}, lr ${o.lr}, seed ${o.seed}`);
  const system = await runSystem(o, out);
  let reference: ReferenceResult | undefined;
  if (o.reference) {
    out.note('reference: in-process run with the same seeds…');
    reference = await runReference(o, out, { deviceIds: system.deviceIds, roundIds: system.rounds.map((r) => r.roundId) });
  }
  let central: CentralResult | undefined;
  if (o.central) {
    const passes = reference
      ? reference.rounds.reduce((n, r) => n + r.samplePasses, 0)
      : o.rounds * clientsPerRound(o) * o.epochs * (8000 / o.clients);
    out.note(`centralized: training on the union of the partitions for ${passes} sample passes…`);
    central = await runCentral(o, passes);
  }
  const result = report(o, system, reference, central, out);
  const json = JSON.stringify(result);
  if (o.out) {
    await mkdir(dirname(o.out), { recursive: true });
    await writeFile(o.out, `${json}\n`);
  }
  process.stdout.write(`${json}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    process.stderr.write(`bench:fl failed: ${(error as Error).stack ?? String(error)}\n`);
    await stopAllChildren();
    process.exitCode = 1;
  },
);
