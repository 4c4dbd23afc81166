/** The result of one `bench:fl` run: the per-round comparison lines, the summary and the JSON object. */
import { cpus } from 'node:os';
import { anchorFor } from './anchors.js';
import { formatBytes, pct, type BenchOutput } from './bench-output.js';
import { clientsPerRound, type FlBenchOptions } from './fl-options.js';
import { maxWeightDiff, type CentralResult, type ReferenceResult } from './fl-reference.js';
import type { SystemResult } from './fl-system.js';

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** First round (1-based) whose accuracy reaches `target`, or null. */
function roundReaching(accuracy: readonly number[], target: number): number | null {
  const i = accuracy.findIndex((a) => a >= target);
  return i < 0 ? null : i + 1;
}

export function report(o: FlBenchOptions, system: SystemResult, reference: ReferenceResult | undefined, central: CentralResult | undefined, out: BenchOutput) {
  const accuracy = system.rounds.map((r) => r.accuracy);
  const referenceAccuracy = reference?.rounds.map((r) => r.accuracy) ?? null;
  const deltas = referenceAccuracy ? accuracy.map((a, i) => a - referenceAccuracy[i]!) : null;
  const weightDiffs = reference ? system.rounds.map((r, i) => maxWeightDiff(r.weights, reference.rounds[i]!.weights)) : null;
  const selectionMismatches = reference
    ? system.rounds.filter((r, i) => r.participants.join() !== reference.rounds[i]!.participants.join()).map((r) => r.number)
    : null;
  if (reference) {
    out.line('');
    out.line('round  system    reference  Δ (pp)   max|Δw|    bytes down  bytes up  selection');
    system.rounds.forEach((r, i) => {
      const ref = reference.rounds[i]!;
      out.line(`${String(r.number).padStart(5)}  ${pct(r.accuracy).padStart(7)}   ${pct(ref.accuracy).padStart(7)}   ` +
        `${(100 * deltas![i]!).toFixed(2).padStart(6)}   ${weightDiffs![i]!.toExponential(1).padStart(7)}   ` +
        `${formatBytes(r.bytesDown).padStart(10)}  ${formatBytes(r.bytesUp).padStart(9)}  ${selectionMismatches!.includes(r.number) ? 'DIFFERS' : 'same'}`);
    });
  }
  const maxAbsDelta = deltas ? Math.max(...deltas.map(Math.abs)) : null;
  const anchor = anchorFor(o);
  const finalAccuracy = accuracy.at(-1)!;
  const result = {
    bench: 'fl',
    model: o.model,
    partition: o.partition,
    strategy: o.strategy,
    strategyOptions: o.strategyOptions,
    compression: o.compression,
    rounds: o.rounds,
    clients: o.clients,
    clientsPerRound: clientsPerRound(o),
    fraction: o.fraction,
    epochs: o.epochs,
    batch: o.batch,
    lr: o.lr,
    seed: o.seed,
    simProcesses: o.simProcesses,
    accuracy: accuracy.map(round4),
    referenceAccuracy: referenceAccuracy?.map(round4) ?? null,
    federatedAccuracy: o.fedEval ? system.rounds.map((r) => (r.federatedAccuracy === null ? null : round4(r.federatedAccuracy))) : undefined,
    finalAccuracy: round4(finalAccuracy),
    referenceFinalAccuracy: referenceAccuracy ? round4(referenceAccuracy.at(-1)!) : null,
    maxAbsDelta: maxAbsDelta === null ? null : round4(maxAbsDelta),
    maxWeightDiff: weightDiffs ? Math.max(...weightDiffs) : null,
    selectionMismatches,
    initialWeightsMatch: reference ? maxWeightDiff(system.initialWeights, reference.initialWeights) === 0 : null,
    roundReaching90: roundReaching(accuracy, 0.9),
    referenceRoundReaching90: referenceAccuracy ? roundReaching(referenceAccuracy, 0.9) : null,
    centralizedAccuracy: central ? round4(central.accuracy) : null,
    centralizedEpochs: central?.epochs ?? null,
    bytesDown: system.bytesDown,
    bytesUp: system.bytesUp,
    bytesPerRound: Math.round((system.bytesDown + system.bytesUp) / o.rounds),
    bytesDownPerRound: Math.round(system.bytesDown / o.rounds),
    bytesUpPerRound: Math.round(system.bytesUp / o.rounds),
    rejectedUpdates: system.rounds.reduce((n, r) => n + r.rejectedUpdates, 0),
    wallSec: Math.round(system.wallSec * 10) / 10,
    setupSec: Math.round(system.setupSec * 10) / 10,
    referenceWallSec: reference ? Math.round(reference.wallSec * 10) / 10 : null,
    centralizedWallSec: central ? Math.round(central.wallSec * 10) / 10 : null,
    anchor: {
      ...anchor,
      deltaToComparable: anchor.comparable ? round4(finalAccuracy - anchor.comparable.accuracy) : null,
    },
    machine: { cpus: cpus().length, node: process.version },
    date: new Date().toISOString(),
  };
  out.line('');
  out.line(`final accuracy: system ${pct(finalAccuracy)}` +
    `${referenceAccuracy ? `, reference ${pct(referenceAccuracy.at(-1))}, max |Δ| per round ${(100 * maxAbsDelta!).toFixed(2)} pp` : ''}` +
    `${central ? `, centralized ${pct(central.accuracy)} (${central.epochs} epochs)` : ''}` +
    `${anchor.comparable ? `; anchor (${anchor.comparable.what}) ${pct(anchor.comparable.accuracy)}` : ''}`);
  out.line(`traffic: ${formatBytes(result.bytesPerRound)} per round (↓${formatBytes(result.bytesDownPerRound)} ↑${formatBytes(result.bytesUpPerRound)}); ` +
    `wall: system ${result.wallSec} s (+${result.setupSec} s setup)${reference ? `, reference ${result.referenceWallSec} s` : ''}` +
    `${central ? `, centralized ${result.centralizedWallSec} s` : ''}`);
  return result;
}
