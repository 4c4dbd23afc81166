/**
 * Aggregation of a round (DESIGN §4): the accepted updates are read back from the spool one at a time and
 * re-validated, weighted by their bounded example counts (update-weight.ts, DESIGN §9) and folded by the campaign's
 * strategy; the result is evaluated at the hub on the campaign's validation set, if it has one (through the injected
 * Evaluator, hub/src/ml/evaluator.ts), and registered as the model's next version — unless the round stopped
 * aggregating meanwhile (an operator cancelled it). State changes are the life cycle's (round-lifecycle.ts).
 */
import { WeightUpdate, type ModelWeights } from '@fedfleet/proto';
import type { DatasetRegistry } from '../datasets/dataset-registry.js';
import type { HubLogger } from '../logger.js';
import type { EvaluationResult, Evaluator } from '../ml/evaluator.js';
import type { ModelRegistry, VersionRecord } from '../models/model-registry.js';
import type { CampaignConfig } from './campaign-config.js';
import type { CampaignRecord, ParticipantRecord, RoundMetrics, RoundRecord, RoundRepo } from './round-repo.js';
import { createStrategy, type Strategy } from './strategies/index.js';
import type { UpdateSpool } from './update-spool.js';
import { boundUpdateWeights, DEFAULT_WEIGHT_CAP_FACTOR } from './update-weight.js';
import { validateUpdate } from './validate-update.js';

export interface Aggregated {
  version: VersionRecord;
  /** The round's metrics with the aggregation's (updates, examples, local losses, hub-side evaluation). */
  metrics: RoundMetrics;
  /** The strategy's server state after this round, stored with the campaign. */
  strategyState: Uint8Array | null;
  /** The weight each accepted update carried, by device. */
  weights: Map<string, number>;
  /** The participants whose updates were aggregated. */
  participants: ParticipantRecord[];
}

export interface RoundAggregationDeps {
  rounds: RoundRepo;
  registry: Pick<ModelRegistry, 'loadContent' | 'addRoundVersion'>;
  datasets: Pick<DatasetRegistry, 'load'>;
  spool: Pick<UpdateSpool, 'read'>;
  evaluator: Pick<Evaluator, 'evaluate'>;
  log: HubLogger;
}

export interface RoundAggregation {
  /** Aggregates a round; undefined when `stillWanted` turned false before its version was registered. */
  aggregate(round: RoundRecord, campaign: CampaignRecord, stillWanted: () => boolean): Promise<Aggregated | undefined>;
  /** The campaign's strategy (created from its stored config when this process has none yet). */
  strategyOf(campaign: Pick<CampaignRecord, 'id' | 'config'>): Strategy;
  /** Keeps the strategy a new campaign was checked with. */
  remember(campaignId: string, strategy: Strategy): void;
  /** A campaign ended: its strategy is dropped. */
  forget(campaignId: string): void;
}

export function createRoundAggregation(deps: RoundAggregationDeps): RoundAggregation {
  const { rounds, registry, log } = deps;
  const strategies = new Map<string, Strategy>();

  function strategyOf(campaign: Pick<CampaignRecord, 'id' | 'config'>): Strategy {
    let strategy = strategies.get(campaign.id);
    if (!strategy) strategies.set(campaign.id, (strategy = createStrategy(campaign.config.strategy, campaign.config.strategyOptions)));
    return strategy;
  }

  /** The aggregation weight of each accepted update (update-weight.ts); logs every claim it clamps. */
  function updateWeights(roundId: string, participants: readonly ParticipantRecord[], config: CampaignConfig): Map<string, number> {
    const bounded = boundUpdateWeights(
      participants.map((p) => ({ deviceId: p.deviceId, claimed: p.exampleCount!, declared: p.declaredExamples })),
      { maxExamples: config.maxExamples, capFactor: config.weightCapFactor ?? DEFAULT_WEIGHT_CAP_FACTOR },
    );
    for (const w of bounded) {
      if (w.weight < w.claimed) log.warn({ roundId, deviceId: w.deviceId, claimed: w.claimed, weight: w.weight, boundBy: w.boundBy }, 'update weight clamped');
    }
    return new Map(bounded.map((w) => [w.deviceId, w.weight]));
  }

  /** Hub-side evaluation of a new global model (DESIGN §4); a failure is logged and leaves the metric out, never fails the round. */
  async function evaluateAtHub(datasetId: string, topologyJson: string, weights: ModelWeights, roundId: string): Promise<EvaluationResult | undefined> {
    try {
      const started = performance.now();
      const result = await deps.evaluator.evaluate({ topologyJson, weights, data: deps.datasets.load(datasetId) });
      log.info({ roundId, accuracy: result.accuracy, examples: result.count, ms: Math.round(performance.now() - started) }, 'hub-side evaluation');
      return result;
    } catch (error) {
      log.warn({ err: error, roundId, datasetId }, 'hub-side evaluation failed');
      return undefined;
    }
  }

  return {
    strategyOf,
    remember: (campaignId, strategy) => void strategies.set(campaignId, strategy),
    forget: (campaignId) => void strategies.delete(campaignId),
    async aggregate(round, campaign, stillWanted) {
      const roundId = round.id;
      const base = await registry.loadContent(round.baseVersionId);
      if (!stillWanted()) return undefined;
      const strategy = strategyOf(campaign);
      strategy.loadState(campaign.strategyState);
      const aggregator = strategy.begin(base.weights);
      const shapes = base.weights.map((w) => ({ name: w.name, shape: w.shape }));
      const participants = rounds.participants(roundId).filter((p) => p.state === 'updated');
      // The one place update weights are bounded: every strategy (and the round's metrics) sees the bounded weight,
      // never a device's bare claim (DESIGN §9).
      const weightOf = updateWeights(roundId, participants, campaign.config);
      let examples = 0;
      const sums = { trainLoss: 0, before: 0, after: 0 };
      for (const p of participants) {
        const update = WeightUpdate.decode(await deps.spool.read(roundId, p.updateRef!));
        // Re-validated from disk: the spool is trusted storage, but a torn file must not poison the model.
        const valid = validateUpdate(update, { baseVersionId: round.baseVersionId, shapes, maxUpdateNorm: 0 });
        if (valid.exampleCount !== p.exampleCount) throw new Error(`spooled update of ${p.deviceId} does not match the one accepted`);
        const weight = weightOf.get(p.deviceId)!;
        aggregator.add({ deviceId: p.deviceId, exampleCount: weight, delta: valid.delta });
        examples += weight;
        sums.trainLoss += weight * (p.trainMetrics?.trainLoss ?? 0);
        sums.before += weight * (p.trainMetrics?.accuracyBefore ?? 0);
        sums.after += weight * (p.trainMetrics?.accuracyAfter ?? 0);
      }
      if (!stillWanted()) return undefined;
      const weights = aggregator.finish();
      const { validationSetId } = campaign.config;
      const hubEval = validationSetId ? await evaluateAtHub(validationSetId, base.topologyJson, weights, roundId) : undefined;
      if (!stillWanted()) return undefined;
      const metrics: RoundMetrics = {
        ...round.metrics, updates: participants.length, examples, trainLoss: sums.trainLoss / examples,
        accuracyBeforeLocal: sums.before / examples, accuracyAfterLocal: sums.after / examples,
        ...(hubEval ? { hubAccuracy: hubEval.accuracy, hubLoss: hubEval.loss, hubExamples: hubEval.count } : {}),
      };
      const version = await registry.addRoundVersion({
        modelId: campaign.modelId, parentVersionId: round.baseVersionId, roundId, campaignId: campaign.id, weights,
        metrics: {
          round: round.number, updates: participants.length, examples, trainLoss: metrics.trainLoss,
          ...(hubEval ? { hubAccuracy: hubEval.accuracy, hubLoss: hubEval.loss, validationSetId } : {}),
        },
        onlyIf: stillWanted,
      });
      if (!version) return undefined;
      return { version, metrics, strategyState: strategy.saveState(), weights: weightOf, participants };
    },
  };
}
