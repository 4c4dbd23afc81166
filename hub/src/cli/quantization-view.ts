/**
 * How the CLI shows quantization jobs (`models quantize`, `models show`): a table of a version's jobs and of their
 * fleet evaluations, the outcome of one, and the progress-bar reading of a running one.
 */
import type { FleetEvalJson, QuantizationJson } from '../quantize/schemas.js';
import { formatAccuracy } from './campaign-progress.js';
import { println, type CliIo } from './io.js';
import { formatBytes, formatTable } from './table.js';

/** `fleet`, `fleet p99.99`, `dataset:digits`: where the activation ranges came from and how they were clipped. */
export function formatCalibration(job: Pick<QuantizationJson, 'calibration' | 'datasetName' | 'percentile'>): string {
  const source = job.calibration === 'dataset' ? `dataset:${job.datasetName ?? '?'}` : 'fleet';
  return job.percentile < 100 ? `${source} p${job.percentile}` : source;
}

/** `3/4 (1 rejected)`, `-` for a data set calibration, which asks no device. */
function formatDevices(job: QuantizationJson): string {
  if (job.calibration === 'dataset') return '-';
  return `${job.devicesReported}/${job.devicesAsked}${job.devicesRejected > 0 ? ` (${job.devicesRejected} rejected)` : ''}`;
}

export function printQuantizations(io: CliIo, version: number, jobs: readonly QuantizationJson[]): void {
  if (jobs.length === 0) {
    println(io.stdout, `\nno quantizations of version ${version} (fedfleet models quantize <model> --version ${version} --calibrate fleet|dataset:<name>)`);
    return;
  }
  println(io.stdout, `\nquantizations of version ${version}`);
  println(io.stdout, formatTable(
    ['ID', 'STATE', 'CALIBRATION', 'DEVICES', 'EXAMPLES', 'INT8 SIZE', 'SHA256', 'CREATED'],
    jobs.map((job) => [job.id, job.state === 'failed' ? `failed ${job.errorCode ?? ''}`.trimEnd() : job.state, formatCalibration(job),
      formatDevices(job), job.exampleCount, formatBytes(job.artifact?.sizeBytes), job.artifact?.sha256.slice(0, 12) ?? '-', job.createdAt]),
  ));
  const evaluated = jobs.filter((job) => job.fleetEval);
  if (evaluated.length === 0) return;
  println(io.stdout, '\nfleet evaluation of the int8 models (integer-only, on the devices\' own data)');
  println(io.stdout, formatTable(
    ['ID', 'EVALUATION', 'INT8 ACCURACY', 'DEVICES', 'EXAMPLES', 'REFUSED'],
    evaluated.map(({ id, fleetEval: e }) => [id, e!.state, formatAccuracy(e!.accuracy), `${e!.devices}/${e!.devicesAsked}`, e!.examples, e!.refused.length]),
  ));
  for (const job of evaluated) printRefusals(io, job.fleetEval!, `${job.id.slice(0, 8)} `);
}

/** `done: int8 accuracy 91.35% on 3/4 devices, 1200 examples, 1 refused`. */
export function formatFleetEval(e: FleetEvalJson): string {
  if (e.state === 'no-devices') return 'no-devices: no online, idle device matched';
  const refused = e.refused.length > 0 ? `, ${e.refused.length} refused` : '';
  return `${e.state}: int8 accuracy ${formatAccuracy(e.accuracy)} on ${e.devices}/${e.devicesAsked} devices, ${e.examples} examples${refused}`;
}

/** One line per device that refused to evaluate, with its code and reason (the numbers a microcontroller lacks). */
function printRefusals(io: CliIo, e: FleetEvalJson, prefix = ''): void {
  for (const r of e.refused) println(io.stdout, `${prefix}refused by ${r.deviceId}: ${[r.code, r.reason].filter(Boolean).join(': ') || 'no reason given'}`);
}

/** Where a running job (calibrating, building, evaluating) stands, for the progress bar: devices answered out of those asked, or the phase. */
export function quantizationProgress(job: QuantizationJson): { done: number; total: number; label: string } {
  if (job.state === 'calibrating' && job.calibration === 'fleet') {
    return { done: job.devicesReported + job.devicesRejected, total: job.devicesAsked, label: 'calibrating: devices reported' };
  }
  if (job.state === 'evaluating' && job.fleetEval) {
    const e = job.fleetEval;
    return { done: e.devices + e.refused.length, total: e.devicesAsked, label: 'evaluating the int8 model on the fleet: devices answered' };
  }
  return { done: 0, total: 1, label: job.state === 'calibrating' ? `calibrating on ${formatCalibration(job)}` : 'building the int8 model' };
}

/** A finished job: the artifact, where the ranges came from, and the ranges themselves. */
export function printQuantizationResult(io: CliIo, job: QuantizationJson, modelName: string): void {
  println(io.stdout, `quantization ${job.id} ${job.state}: int8 .tflite ${formatBytes(job.artifact?.sizeBytes)} sha256 ${job.artifact?.sha256 ?? '-'}`);
  println(io.stdout, `calibration ${formatCalibration(job)}: ${job.calibration === 'fleet' ? `devices ${formatDevices(job)}, ` : ''}${job.exampleCount} examples`);
  if (job.ranges) {
    println(io.stdout, formatTable(['TENSOR', 'MIN', 'MAX'], job.ranges.map((r) => [r.name, r.min.toPrecision(5), r.max.toPrecision(5)])));
  }
  if (job.fleetEval) {
    println(io.stdout, `fleet evaluation ${formatFleetEval(job.fleetEval)}`);
    printRefusals(io, job.fleetEval);
  }
  println(io.stdout, `export it: fedfleet models export ${modelName} --version ${job.version} --format tflite --int8`);
}
