/**
 * `fedfleet rollouts create` flags → the `POST /v1/rollouts` body (hub/src/rollouts/rollout-request.ts). The CLI
 * turns the flags' spellings (`5%,25%,all`, `60s`, `--int8`) into the request's fields and refuses what it cannot
 * read; the hub checks ranges, names and that waves are cumulative, so both say the same thing about a request.
 */
import { ENCODINGS, type Encoding } from '@fedfleet/proto';
import { ROLLOUT_DEFAULTS, ROLLOUT_FORMATS, type RolloutFormat, type RolloutRequest } from '../rollouts/rollout-request.js';
import { formatDurationSec, parseDurationSec, parseFiniteNumber, parsePositiveInteger, type OptionsSpec } from './args.js';
import { usageError } from './cli-error.js';

type WaveRequest = NonNullable<RolloutRequest['waves']>[number];

/** Flags of `rollouts create` (and `--watch`); booleans have no default so that "given" is distinguishable. */
export const ROLLOUT_CREATE_OPTIONS = {
  version: { type: 'string' },
  format: { type: 'string' },
  int8: { type: 'boolean' },
  encoding: { type: 'string' },
  selector: { type: 'string' },
  waves: { type: 'string' },
  'shadow-first': { type: 'boolean' },
  'shadow-inferences': { type: 'string' },
  'max-accuracy-drop': { type: 'string' },
  'max-latency-factor': { type: 'string' },
  soak: { type: 'string' },
  success: { type: 'string' },
  error: { type: 'string' },
  'device-timeout': { type: 'string' },
  'no-continuous': { type: 'boolean' },
  watch: { type: 'boolean' },
} as const satisfies OptionsSpec;

export type RolloutCreateFlags = { [K in keyof typeof ROLLOUT_CREATE_OPTIONS]?: (typeof ROLLOUT_CREATE_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

const D = ROLLOUT_DEFAULTS;
const pct = (share: number) => `${share * 100}%`;
const defaultWaves = D.waves.map((w) => ('percent' in w ? `${w.percent}%` : String((w as { devices: number }).devices))).join(',');

/** The defaults shown are the hub's own (ROLLOUT_DEFAULTS), so help never disagrees with what it does. */
export const ROLLOUTS_CREATE_USAGE =
  `  fedfleet rollouts create <model> --version N|latest --selector k=v[,k=v] [--format ${ROLLOUT_FORMATS.join('|')}] [--int8|--encoding ${ENCODINGS.join('|')}]\n` +
  `                           [--waves ${defaultWaves}] [--shadow-first] [--shadow-inferences <N>]\n` +
  `                           [--max-accuracy-drop ${D.maxAccuracyDropPts}] [--max-latency-factor ${D.maxLatencyFactor}] [--soak ${formatDurationSec(D.soakSec)}]\n` +
  `                           [--success ${D.successThreshold}] [--error ${D.errorThreshold}] [--device-timeout ${formatDurationSec(D.deviceTimeoutSec)}] [--no-continuous] [--watch] [--json]\n`;

export const ROLLOUTS_CREATE_HELP = `Values shown are the defaults. --selector picks the target devices ('' = every device).
--waves: cumulative steps, each a share (5%) or a number of devices (10); 'all' = every target. The last wave always
  reaches every target.
--format: the bundle's payload, tfjs-layers (default encoding ${D.encoding['tfjs-layers']}) or tflite (default ${D.encoding.tflite}: the
  version's latest int8 quantization); --int8 = --encoding int8.
--shadow-first: the first wave runs the version in shadow beside the serving one (both on the same inputs) and
  promotes it only if it is not worse; --shadow-inferences: inferences each of its devices reports before the wave
  is judged (required with --shadow-first).
Health gate, per device against the version it ran before: --max-accuracy-drop (points of self-test accuracy it may
  lose), --max-latency-factor (p95 latency ratio).
Per wave: --success (healthy share of answered devices it needs, ${pct(D.successThreshold)} by default), --error (failed share above
  which the rollout aborts and every changed device rolls back), --soak (watched this long after it passed).
--device-timeout: how long an online device may take to answer before it counts as failed.
--no-continuous: devices that join the selector after the rollout completed do not get the version.
--watch: follow the rollout until it ends (as rollouts watch; with --json, print it as it ended).
`;

/** `5%,25%,100%`, `2,10,all` or a mix → cumulative waves (the hub checks that they increase). */
export function parseWaves(text: string): WaveRequest[] {
  const items = text.split(',').map((item) => item.trim());
  return items.map((item, i): WaveRequest => {
    if (item === 'all') {
      if (i !== items.length - 1) throw usageError(`--waves: 'all' can only be the last wave, got ${JSON.stringify(text)}`);
      return { percent: 100 };
    }
    const percent = /^(\d+(?:\.\d+)?)%$/.exec(item);
    if (percent) return { percent: Number(percent[1]) };
    if (/^\d+$/.test(item)) return { devices: parsePositiveInteger(item, '--waves device count') };
    throw usageError(`--waves wants shares (5%), device counts (10) or 'all', separated by commas; got ${JSON.stringify(item)} in ${JSON.stringify(text)}`);
  });
}

function encodingOf(flags: RolloutCreateFlags): Encoding | undefined {
  if (flags.int8 && flags.encoding !== undefined && flags.encoding !== 'int8') {
    throw usageError(`--int8 and --encoding ${flags.encoding} disagree; give one`);
  }
  if (flags.int8) return 'int8';
  if (flags.encoding === undefined) return undefined;
  if (!(ENCODINGS as readonly string[]).includes(flags.encoding)) {
    throw usageError(`--encoding must be one of ${ENCODINGS.join(', ')}, got ${JSON.stringify(flags.encoding)}`);
  }
  return flags.encoding as Encoding;
}

/** `--version 3` is the number 3; anything else (`latest`, a version id) goes as it is. */
function versionOf(text: string | undefined): number | string {
  if (text === undefined || text.trim() === '') throw usageError('--version is required (a version number, id or latest)');
  return /^\d+$/.test(text.trim()) ? parsePositiveInteger(text, '--version') : text.trim();
}

/** The first wave's `shadow` from --shadow-first and --shadow-inferences (the hub has no default for the count). */
function shadowOf(flags: RolloutCreateFlags): { minInferences: number } | undefined {
  const count = flags['shadow-inferences'];
  if (!flags['shadow-first']) {
    if (count !== undefined) throw usageError('--shadow-inferences goes with --shadow-first');
    return undefined;
  }
  if (count === undefined) throw usageError('--shadow-first needs --shadow-inferences <N>: the inferences each shadowing device reports before the wave is judged');
  if (!/^\d+$/.test(count.trim())) throw usageError(`--shadow-inferences must be a whole number, got ${JSON.stringify(count)}`);
  return { minInferences: Number(count) };
}

/** The request body of `rollouts create <model> …`; only what the flags give (the hub fills in its defaults). */
export function rolloutRequestOf(model: string, flags: RolloutCreateFlags): RolloutRequest {
  if (flags.selector === undefined) throw usageError("--selector is required (k=v[,k=v]; '' targets every device)");
  const request: RolloutRequest = { model, version: versionOf(flags.version), selector: flags.selector };
  if (flags.format !== undefined) {
    if (!(ROLLOUT_FORMATS as readonly string[]).includes(flags.format)) {
      throw usageError(`--format must be one of ${ROLLOUT_FORMATS.join(', ')}, got ${JSON.stringify(flags.format)}`);
    }
    request.format = flags.format as RolloutFormat;
  }
  const encoding = encodingOf(flags);
  if (encoding) request.encoding = encoding;

  const perWave: Omit<WaveRequest, 'percent' | 'devices' | 'shadow'> = {};
  if (flags.success !== undefined) perWave.successThreshold = parseFiniteNumber(flags.success, '--success');
  if (flags.error !== undefined) perWave.errorThreshold = parseFiniteNumber(flags.error, '--error');
  if (flags.soak !== undefined) perWave.soakSec = parseDurationSec(flags.soak);
  const shadowFirst = shadowOf(flags);
  if (flags.waves !== undefined || Object.keys(perWave).length > 0 || shadowFirst) {
    const waves = flags.waves === undefined ? D.waves.map((w) => ({ ...w })) : parseWaves(flags.waves);
    request.waves = waves.map((wave, i) => ({ ...wave, ...perWave, ...(i === 0 && shadowFirst ? { shadow: shadowFirst } : {}) }));
  }

  const gate: NonNullable<RolloutRequest['gate']> = {};
  if (flags['max-accuracy-drop'] !== undefined) gate.maxAccuracyDropPts = parseFiniteNumber(flags['max-accuracy-drop'], '--max-accuracy-drop');
  if (flags['max-latency-factor'] !== undefined) gate.maxLatencyFactor = parseFiniteNumber(flags['max-latency-factor'], '--max-latency-factor');
  if (Object.keys(gate).length > 0) request.gate = gate;
  if (flags['device-timeout'] !== undefined) request.deviceTimeoutSec = parseDurationSec(flags['device-timeout']);
  if (flags['no-continuous']) request.continuous = false;
  return request;
}
