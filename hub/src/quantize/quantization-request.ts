/**
 * What `POST /v1/models/:id/versions/:version/quantizations` accepts, its defaults (one place: the schema's defaults
 * are these), and the checks that refuse a request before anything is stored (DESIGN §9).
 */
import { DEFAULT_CALIBRATION_BINS, MAX_CALIBRATION_BINS, MIN_CALIBRATION_BINS } from '@fedfleet/proto';
import Type, { type Static } from 'typebox';
import { HubError } from '../errors.js';
import { parseSelector } from '../fleet/label-selector.js';
import type { QuantizationConfig } from './quantization-repo.js';

export const QUANTIZATION_DEFAULTS = Object.freeze({
  selector: '',
  minDevices: 1,
  deadlineSec: 120,
  percentile: 100,
  histogramBins: DEFAULT_CALIBRATION_BINS,
  maxExamplesPerDevice: 0,
});


/** `fleet`, or `dataset:` and a data set's name or id (POST /v1/datasets). */
const CALIBRATE_PATTERN = '^(fleet|dataset:[A-Za-z0-9][A-Za-z0-9._-]{0,127})$';

export const QuantizationRequestSchema = Type.Object(
  {
    calibrate: Type.String({
      pattern: CALIBRATE_PATTERN, maxLength: 136,
      description: 'fleet: online devices calibrate on their own data and report statistics only; dataset:<name>: the hub calibrates on an uploaded data set',
    }),
    selector: Type.String({ default: QUANTIZATION_DEFAULTS.selector, maxLength: 2000, description: 'label selector of the devices asked (fleet)' }),
    minDevices: Type.Integer({
      minimum: 1, maximum: 100_000, default: QUANTIZATION_DEFAULTS.minDevices, description: 'fewest valid device reports to build with (fleet)',
    }),
    maxDevices: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'most devices asked (fleet); default every eligible device' })),
    deadlineSec: Type.Number({
      exclusiveMinimum: 0, maximum: 86_400, default: QUANTIZATION_DEFAULTS.deadlineSec, description: 'how long the job waits for device reports (fleet)',
    }),
    // [50, 100]: proto's rangesFromStats clips both ends, [the (100 − p)-th, the p-th percentile].
    percentile: Type.Number({
      minimum: 50, maximum: 100, default: QUANTIZATION_DEFAULTS.percentile,
      description: 'each activation range is [the (100 − p)-th, the p-th percentile] of its values, within a histogram bin (100 = exact min/max)',
    }),
    histogramBins: Type.Integer({
      minimum: MIN_CALIBRATION_BINS, maximum: MAX_CALIBRATION_BINS, default: QUANTIZATION_DEFAULTS.histogramBins, description: 'most histogram bins per tensor',
    }),
    maxExamplesPerDevice: Type.Integer({
      minimum: 0, maximum: 1_000_000_000, default: QUANTIZATION_DEFAULTS.maxExamplesPerDevice,
      description: 'most examples each device calibrates on (dataset: the data set\'s first N); 0 = all',
    }),
    evaluate: Type.Optional(Type.Union([
      Type.Boolean(),
      Type.Object({ selector: Type.Optional(Type.String({ maxLength: 2000, description: 'label selector of the devices asked to evaluate' })) }, { additionalProperties: false }),
    ], {
      description: 'evaluate the built int8 .tflite on the fleet (online, idle devices, int8-only ones included): default on for fleet ' +
        'calibration (its selector), off for a data set; false = off; { selector } = on those devices',
    })),
  },
  { additionalProperties: false },
);

export type QuantizationRequestBody = Static<typeof QuantizationRequestSchema>;

/** A request to quantize a version: the body's fields (defaults optional here) and which version. */
export type QuantizationRequest = Partial<Omit<QuantizationRequestBody, 'calibrate'>> & {
  calibrate: string;
  /** Model id or name. */
  model: string;
  /** Version number, id or `latest`. */
  version: string | number;
};

export type CalibrationChoice = { source: 'fleet' } | { source: 'dataset'; dataset: string };

/** What a request says about evaluating the int8 file on the fleet. */
export type EvaluateRequest = NonNullable<QuantizationRequestBody['evaluate']>;

function badRequest(message: string): HubError {
  return new HubError('HUB_ERR_QUANTIZATION_BAD_REQUEST', { message });
}

/** Where to calibrate: `fleet` or `dataset:<name>`; HUB_ERR_QUANTIZATION_BAD_REQUEST for anything else. */
export function parseCalibrate(calibrate: string): CalibrationChoice {
  if (calibrate === 'fleet') return { source: 'fleet' };
  const dataset = /^dataset:(.+)$/.exec(calibrate)?.[1];
  if (dataset === undefined) throw badRequest(`calibrate must be fleet or dataset:<name>, got ${JSON.stringify(calibrate)}`);
  return { source: 'dataset', dataset };
}

/**
 * The settings a request runs with, defaults filled in (numbers are bounded by QuantizationRequestSchema where the
 * request enters); refuses, before anything is stored, a selector that does not parse (HUB_ERR_BAD_SELECTOR) and
 * minDevices above maxDevices.
 */
export function quantizationConfigOf(request: QuantizationRequest): QuantizationConfig {
  const config: QuantizationConfig = {
    selector: request.selector ?? QUANTIZATION_DEFAULTS.selector,
    minDevices: request.minDevices ?? QUANTIZATION_DEFAULTS.minDevices,
    maxDevices: request.maxDevices ?? null,
    deadlineSec: request.deadlineSec ?? QUANTIZATION_DEFAULTS.deadlineSec,
    percentile: request.percentile ?? QUANTIZATION_DEFAULTS.percentile,
    histogramBins: request.histogramBins ?? QUANTIZATION_DEFAULTS.histogramBins,
    maxExamplesPerDevice: request.maxExamplesPerDevice ?? QUANTIZATION_DEFAULTS.maxExamplesPerDevice,
  };
  parseSelector(config.selector);
  if (config.maxDevices !== null && config.minDevices > config.maxDevices) {
    throw badRequest(`minDevices ${config.minDevices} exceeds maxDevices ${config.maxDevices}`);
  }
  return config;
}

/**
 * The label selector of the devices asked to evaluate the built int8 file, or null when the job does not evaluate:
 * absent or `true` = fleet calibration's own selector (a data set calibration: off when absent, every device for
 * `true`), `false` = off, `{ selector }` = those devices. Refuses a selector that does not parse (HUB_ERR_BAD_SELECTOR).
 */
export function evaluateSelectorOf(evaluate: EvaluateRequest | undefined, choice: CalibrationChoice, config: QuantizationConfig): string | null {
  const fleetSelector = choice.source === 'fleet' ? config.selector : '';
  if (evaluate === false || (evaluate === undefined && choice.source === 'dataset')) return null;
  const selector = typeof evaluate === 'object' ? evaluate.selector ?? fleetSelector : fleetSelector;
  parseSelector(selector);
  return selector;
}
