/**
 * `fedfleet models quantize`: calibrates a version's activation ranges on the fleet (devices report statistics, never
 * examples) or on an uploaded data set, builds its int8 .tflite (issue 9 item 2) and evaluates that file on the fleet
 * (item 3; --no-eval skips it). Waits with a progress bar (devices reported / asked, then devices answered / asked)
 * and prints the result, unless --no-wait.
 */
import { QUANTIZATION_DEFAULTS } from '../../quantize/quantization-request.js';
import type { QuantizationJson } from '../../quantize/schemas.js';
import { CLIENT_OPTIONS, formatDurationSec, parse, parseDurationSec, parsePositiveInteger } from '../args.js';
import { CliError, usageError } from '../cli-error.js';
import { createHubClient, type HubClient } from '../hub-client.js';
import { printJson, println, type CliIo } from '../io.js';
import { createProgress, type Progress } from '../progress.js';
import { formatCalibration, printQuantizationResult, quantizationProgress } from '../quantization-view.js';

/** The defaults shown are the hub's own (quantization-request.ts), so help never disagrees with what it does. */
export const MODELS_QUANTIZE_USAGE =
  '  fedfleet models quantize <name|id> [--version latest] --calibrate fleet|dataset:<name> [--selector k=v,…]\n' +
  `                           [--percentile ${QUANTIZATION_DEFAULTS.percentile}] [--min-devices ${QUANTIZATION_DEFAULTS.minDevices}] ` +
  `[--max-devices <N>] [--max-examples <N>]\n                           [--deadline ${formatDurationSec(QUANTIZATION_DEFAULTS.deadlineSec)}] ` +
  '[--no-eval | --eval-selector k=v,…] [--no-wait] [--json]\n';

const OPTIONS = {
  ...CLIENT_OPTIONS,
  version: { type: 'string', default: 'latest' },
  calibrate: { type: 'string' },
  selector: { type: 'string' },
  percentile: { type: 'string' },
  'min-devices': { type: 'string' },
  'max-devices': { type: 'string' },
  'max-examples': { type: 'string' },
  deadline: { type: 'string' },
  'no-eval': { type: 'boolean', default: false },
  'eval-selector': { type: 'string' },
  'no-wait': { type: 'boolean', default: false },
  'poll-ms': { type: 'string' },
} as const;

/** `POST …/quantizations` body from the flags; the hub checks ranges (percentile in (0, 100], …) and names. */
function requestBody(values: ReturnType<typeof parse<typeof OPTIONS>>['values']): Record<string, unknown> {
  const calibrate = values.calibrate;
  if (!calibrate || !/^(fleet|dataset:.+)$/.test(calibrate)) throw usageError('--calibrate fleet or --calibrate dataset:<name> is required');
  if (values.selector && calibrate !== 'fleet') throw usageError('--selector picks devices: it goes with --calibrate fleet');
  const body: Record<string, unknown> = { calibrate };
  if (values.selector) body.selector = values.selector;
  if (values.percentile) {
    const percentile = Number(values.percentile);
    if (!Number.isFinite(percentile)) throw usageError(`--percentile must be a number, got ${JSON.stringify(values.percentile)}`);
    body.percentile = percentile;
  }
  if (values['min-devices']) body.minDevices = parsePositiveInteger(values['min-devices'], '--min-devices');
  if (values['max-devices']) body.maxDevices = parsePositiveInteger(values['max-devices'], '--max-devices');
  if (values['max-examples']) body.maxExamplesPerDevice = parsePositiveInteger(values['max-examples'], '--max-examples');
  if (values.deadline) body.deadlineSec = parseDurationSec(values.deadline);
  if (values['no-eval'] && values['eval-selector'] !== undefined) throw usageError('--no-eval and --eval-selector contradict each other');
  if (values['no-eval']) body.evaluate = false;
  if (values['eval-selector'] !== undefined) body.evaluate = { selector: values['eval-selector'] };
  return body;
}

export async function runModelsQuantizeCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return io.stdout.write(`Usage:\n${MODELS_QUANTIZE_USAGE}`), 0;
  const [model, ...extra] = positionals;
  if (!model || extra.length > 0) throw usageError(`usage:\n${MODELS_QUANTIZE_USAGE}`);
  const body = requestBody(values);
  const pollMs = values['poll-ms'] ? parsePositiveInteger(values['poll-ms'], '--poll-ms') : 1000;
  const client = createHubClient(values, io);
  const started = await client.request<QuantizationJson>(
    'POST', `/v1/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(values.version)}/quantizations`, body,
  );
  if (values['no-wait']) {
    if (values.json) return printJson(io, started), 0;
    println(io.stdout, `quantization ${started.id} of ${model} version ${started.version} ${started.state}: calibration ${formatCalibration(started)}` +
      `${started.calibration === 'fleet' ? `, ${started.devicesAsked} devices asked` : ''}`);
    println(io.stdout, `follow it: fedfleet models show ${model} --version ${started.version}`);
    return 0;
  }
  const job = await follow(client, io, started, pollMs);
  if (values.json) return printJson(io, job), job.state === 'done' ? 0 : 1;
  if (job.state !== 'done') throw new CliError(job.errorCode ?? 'HUB_ERR_INTERNAL', `quantization ${job.id} failed: ${job.error ?? 'no reason given'}`);
  printQuantizationResult(io, job, model);
  return 0;
}

/** Polls the job until it is done or failed, with a progress bar on stderr (plain lines when it is not a terminal). */
async function follow(client: HubClient, io: CliIo, started: QuantizationJson, pollMs: number): Promise<QuantizationJson> {
  let job = started;
  let progress: Progress | undefined;
  let total = -1;
  let phase = '';
  while (job.state !== 'done' && job.state !== 'failed') {
    const reading = quantizationProgress(job);
    if (reading.total !== total || job.state !== phase) {
      // Another phase (calibrating on devices → building → evaluating on devices): a new bar.
      progress?.finish();
      progress = createProgress({ total: reading.total, label: reading.label, stream: io.stderr });
      total = reading.total;
      phase = job.state;
    }
    progress!.update(reading.done, reading.label);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    job = await client.request<QuantizationJson>('GET', `/v1/quantizations/${encodeURIComponent(job.id)}`);
  }
  progress?.finish(job.state);
  return job;
}
