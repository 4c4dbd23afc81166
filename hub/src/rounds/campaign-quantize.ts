/**
 * A campaign's `quantize` (issue 9 item 2: "a campaign can run [calibration] after its last round"): the settings of
 * a quantization request (one schema, hub/src/quantize/quantization-request.ts), the devices asked chosen by the
 * campaign's selector unless it names its own. Checked when the campaign is created (DESIGN §9), so what would
 * refuse the quantization — an unknown data set or one of other examples, a layer the int8 .tflite cannot express —
 * refuses the campaign instead of surfacing after its last round. hub/src/quantize/campaign-quantization.ts starts
 * the job once the campaign completed.
 */
import { shapeSize } from '@fedfleet/proto';
import Type, { type Static } from 'typebox';
import type { DatasetRecord, DatasetRegistry } from '../datasets/dataset-registry.js';
import { HubError } from '../errors.js';
import { ARCHITECTURES, createInitialModel } from '../models/architectures.js';
import type { ModelContent, ModelRegistry } from '../models/model-registry.js';
import { quantizableModel } from '../quantize/quantizable-model.js';
import type { QuantizationConfig } from '../quantize/quantization-repo.js';
import {
  evaluateSelectorOf, parseCalibrate, quantizationConfigOf, QuantizationRequestSchema, type EvaluateRequest, type QuantizationRequest,
} from '../quantize/quantization-request.js';

const { selector: _selector, ...requestSettings } = QuantizationRequestSchema.properties;

export const CampaignQuantizeSchema = Type.Object(
  {
    ...requestSettings,
    // No default here: absent means the campaign's selector, which only the campaign knows.
    selector: Type.Optional(Type.String({
      maxLength: 2000, description: 'label selector of the devices asked (fleet); default the campaign\'s selector',
    })),
  },
  {
    additionalProperties: false,
    description: 'once the campaign completed, quantize its final version to an int8 .tflite (POST …/quantizations, actor campaign)',
  },
);
export type CampaignQuantizeRequest = Static<typeof CampaignQuantizeSchema>;

/** A campaign's quantize as stored with its config: the request's settings resolved, defaults filled in. */
export interface CampaignQuantizeConfig extends QuantizationConfig {
  /** As requested: `fleet` or `dataset:<name>`. */
  calibrate: string;
  /** The data set, by id: resolved at creation, so a data set given another's name later is not the one used. */
  datasetId?: string;
  /** As requested (absent: the request's default, evaluated on the devices that calibrate). */
  evaluate?: EvaluateRequest;
}

/** What of a campaign request its quantize depends on. */
export interface QuantizeContext {
  quantize?: CampaignQuantizeRequest | undefined;
  model: string;
  baseVersion?: number | string | undefined;
  selector: string;
  seed: number;
}

/**
 * The quantize a campaign runs with and its data set (if any). Refuses, as a quantization request is refused: an
 * unknown data set (HUB_ERR_DATASET_NOT_FOUND), a selector (or evaluate selector) that does not parse, minDevices above
 * maxDevices.
 */
export function campaignQuantizeOf(
  request: QuantizeContext & { quantize: CampaignQuantizeRequest }, datasets: Pick<DatasetRegistry, 'get'>,
): { config: CampaignQuantizeConfig; dataset: DatasetRecord | undefined } {
  const { quantize } = request;
  const choice = parseCalibrate(quantize.calibrate);
  const dataset = choice.source === 'dataset' ? datasets.get(choice.dataset) : undefined;
  // The version is the campaign's final one, unknown yet: quantizationConfigOf reads only the settings.
  const asRequest: QuantizationRequest = { ...quantize, selector: quantize.selector ?? request.selector, model: request.model, version: 'latest' };
  const config = quantizationConfigOf(asRequest);
  evaluateSelectorOf(quantize.evaluate, choice, config); // refuses an evaluate selector that does not parse, as the job would
  const evaluate = quantize.evaluate === undefined ? {} : { evaluate: quantize.evaluate };
  return { config: { ...config, calibrate: quantize.calibrate, ...evaluate, ...(dataset ? { datasetId: dataset.id } : {}) }, dataset };
}

/**
 * Refuses, before anything is stored, a quantize the campaign's model cannot run: everything campaignQuantizeOf
 * refuses, a data set whose examples are not the model's (HUB_ERR_QUANTIZATION_BAD_REQUEST) and a layer the int8
 * .tflite cannot express (HUB_ERR_EXPORT_UNSUPPORTED). Rounds keep the topology, so the base version's decides. A
 * built-in architecture no model has yet is judged by its initial model; an unknown model is left to startCampaign.
 */
export async function checkCampaignQuantize(
  request: QuantizeContext, deps: { registry: ModelRegistry; datasets: Pick<DatasetRegistry, 'get'> },
): Promise<void> {
  const { quantize } = request;
  if (!quantize) return;
  const { dataset } = campaignQuantizeOf({ ...request, quantize }, deps.datasets);
  const base = await baseContent(request, deps.registry);
  if (!base) return;
  const model = quantizableModel(base.content, base.label);
  if (dataset && shapeSize(dataset.inputShape) !== shapeSize(model.inputShape)) {
    throw new HubError('HUB_ERR_QUANTIZATION_BAD_REQUEST', {
      message: `quantize: data set ${dataset.name} has examples of shape ${JSON.stringify(dataset.inputShape)}, ${base.label} takes ${JSON.stringify(model.inputShape)}`,
    });
  }
}

async function baseContent(request: QuantizeContext, registry: ModelRegistry): Promise<{ content: ModelContent; label: string } | undefined> {
  const model = registry.findModel(request.model);
  if (model) {
    const version = registry.resolveVersion(model.id, request.baseVersion ?? 'latest');
    return { content: await registry.loadContent(version.id), label: `model ${model.name}` };
  }
  if (Object.hasOwn(ARCHITECTURES, request.model)) return { content: createInitialModel(request.model, request.seed), label: `architecture ${request.model}` };
  return undefined;
}

const isFiniteNumber = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value);

/** Absent, a boolean, or `{ selector? }` with a string selector. */
function isStoredEvaluate(value: unknown): boolean {
  if (value === undefined || typeof value === 'boolean') return true;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { selector } = value as { selector?: unknown };
  return selector === undefined || typeof selector === 'string';
}

/** What makes a stored `config.quantize` unusable (stored-campaign.ts); empty when it is absent or usable. */
export function storedQuantizeProblems(value: unknown): string[] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['config.quantize is not an object'];
  const quantize = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ['calibrate', 'selector'] as const) if (typeof quantize[key] !== 'string') problems.push(`config.quantize.${key} is not a string`);
  for (const key of ['minDevices', 'deadlineSec', 'percentile', 'histogramBins', 'maxExamplesPerDevice'] as const satisfies readonly (keyof QuantizationConfig)[]) {
    if (!isFiniteNumber(quantize[key])) problems.push(`config.quantize.${key} is not a finite number`);
  }
  if (quantize.maxDevices !== null && !isFiniteNumber(quantize.maxDevices)) problems.push('config.quantize.maxDevices is not a finite number or null');
  if (!isStoredEvaluate(quantize.evaluate)) problems.push('config.quantize.evaluate is not a boolean or { selector }');
  return problems;
}
