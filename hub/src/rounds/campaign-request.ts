/**
 * From a `POST /v1/rounds` request to a stored campaign configuration: the checks that refuse a request before
 * anything is stored (DESIGN §9: selector, strategy and its options, client counts, the validation set's fit), and
 * the fully resolved configuration the campaign runs with.
 */
import { DEFAULT_ENCODING, parseEncoding, shapeSize } from '@fedfleet/proto';
import type { DatasetRecord } from '../datasets/dataset-registry.js';
import { HubError } from '../errors.js';
import { parseSelector } from '../fleet/label-selector.js';
import type { ModelRecord } from '../models/model-registry.js';
import type { CampaignConfig, CampaignRequest } from './campaign-config.js';
import type { CampaignQuantizeConfig } from './campaign-quantize.js';
import { createStrategy, type Strategy } from './strategies/index.js';

export interface CheckedRequest {
  strategy: Strategy;
  /** Fewest valid updates that commit a round: the request's, at least what the strategy needs. */
  minClients: number;
}

/** The checks of a campaign request that do not depend on its model; throws the HubError a bad request gets. */
export function checkCampaignRequest(request: CampaignRequest): CheckedRequest {
  parseSelector(request.selector); // HUB_ERR_BAD_SELECTOR before anything is stored
  // A strategy error is a HubError with its own code (HUB_ERR_STRATEGY_UNKNOWN, HUB_ERR_STRATEGY_OPTIONS): it reaches the client as is.
  const strategy = createStrategy(request.strategy, request.strategyOptions);
  const minClients = Math.max(request.minClients ?? Math.ceil(0.8 * request.clients), strategy.minUpdates);
  if (minClients > request.clients) {
    throw new HubError('HUB_ERR_ROUND_BAD_CONFIG', {
      message: `minClients ${minClients} exceeds clients ${request.clients}` +
        (strategy.minUpdates > 1 ? ` (${request.strategy} needs at least ${strategy.minUpdates} updates)` : ''),
    });
  }
  return { strategy, minClients };
}

/** Refuses a validation set the model cannot be evaluated on (its examples or classes differ). */
export function checkValidationSetFits(set: DatasetRecord, model: { label: string; inputShape: number[]; numClasses: number }): void {
  if (shapeSize(set.inputShape) !== shapeSize(model.inputShape) || set.numClasses !== model.numClasses) {
    throw new HubError('HUB_ERR_ROUND_BAD_CONFIG', {
      message: `validation set ${set.name} (${JSON.stringify(set.inputShape)}, ${set.numClasses} classes) does not fit ` +
        `${model.label} (${JSON.stringify(model.inputShape)}, ${model.numClasses} classes)`,
    });
  }
}

/**
 * The configuration a checked request runs with: defaults resolved, the validation set checked against the model,
 * `quantize` as campaignQuantizeOf resolved it.
 */
export function campaignConfigOf(
  request: CampaignRequest, checked: CheckedRequest, model: ModelRecord, validationSet: DatasetRecord | undefined,
  quantize?: CampaignQuantizeConfig,
): CampaignConfig {
  if (validationSet) checkValidationSetFits(validationSet, { label: `model ${model.name}`, inputShape: model.inputShape, numClasses: model.numClasses });
  // Deprecated aliases (`none`) become their canonical name here, so nothing after the request sees them.
  const compression = request.compression ?? DEFAULT_ENCODING;
  return {
    selector: request.selector, clients: request.clients, minClients: checked.minClients, overSelect: request.overSelect,
    deadlineSec: request.deadlineSec, selectionTimeoutSec: request.selectionTimeoutSec, rejoinGraceSec: request.rejoinGraceSec,
    evaluate: request.evaluate,
    evalTimeoutSec: request.evalTimeoutSec, epochs: request.epochs, batchSize: request.batchSize,
    learningRate: request.learningRate, proximalMu: checked.strategy.clientConfig().proximalMu, maxExamples: request.maxExamples,
    strategy: request.strategy, strategyOptions: request.strategyOptions, downlink: parseEncoding(request.downlink ?? compression),
    uplink: parseEncoding(request.uplink ?? compression), maxUpdateNorm: request.maxUpdateNorm, weightCapFactor: request.weightCapFactor, seed: request.seed,
    ...(validationSet ? { validationSetId: validationSet.id } : {}),
    ...(quantize ? { quantize } : {}),
    constraints: request.constraints,
  };
}
