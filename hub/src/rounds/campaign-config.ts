/**
 * What `POST /v1/rounds` accepts: one federated campaign of N rounds. Knob names follow what Flower users know
 * (clients ≈ fraction_fit × fleet, minClients ≈ min_fit_clients, deadlineSec ≈ round_timeout — but per round),
 * with Bonawitz et al. 2019's over-selection.
 */
import { DEPRECATED_ENCODING_ALIASES, MAX_TASK_EPOCHS, type DeprecatedEncodingAlias, type Encoding } from '@fedfleet/proto';
import Type, { type Static } from 'typebox';
import { EncodingRequestSchema } from '../models/encoding-schema.js';
import { CampaignQuantizeSchema, type CampaignQuantizeConfig } from './campaign-quantize.js';
import { STRATEGY_NAMES } from './strategies/index.js';
import { DEFAULT_WEIGHT_CAP_FACTOR, WEIGHT_CAP_FACTOR_RANGE } from './update-weight.js';

export const CampaignRequestSchema = Type.Object(
  {
    model: Type.String({ minLength: 1, description: 'model id or name' }),
    baseVersion: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000_000 }), Type.String({ minLength: 1 })], { description: 'version number, id or "latest" (default)' })),
    selector: Type.String({ default: '', maxLength: 2000, description: 'label selector of eligible devices' }),
    rounds: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
    clients: Type.Integer({ minimum: 1, maximum: 100_000, default: 10, description: 'K: valid updates a round waits for' }),
    minClients: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'fewest valid updates to commit a round; default ⌈0.8 K⌉' })),
    overSelect: Type.Number({ minimum: 1, maximum: 3, default: 1.3, description: 'selects ⌈K × overSelect⌉ devices' }),
    deadlineSec: Type.Number({ exclusiveMinimum: 0, maximum: 86_400, default: 300, description: 'training deadline of each round' }),
    selectionTimeoutSec: Type.Number({ minimum: 0, maximum: 86_400, default: 60, description: 'how long a round waits for enough eligible devices' }),
    rejoinGraceSec: Type.Number({
      minimum: 0, maximum: 3600, default: 10,
      description: 'when every participant still owing an update is offline, how long the round waits for one to reconnect before closing',
    }),
    evaluate: Type.Boolean({ default: true, description: 'federated evaluation of every new version' }),
    evalTimeoutSec: Type.Number({ exclusiveMinimum: 0, maximum: 86_400, default: 60 }),
    epochs: Type.Integer({ minimum: 1, maximum: MAX_TASK_EPOCHS, default: 1 }),
    batchSize: Type.Integer({ minimum: 1, maximum: 100_000, default: 10 }),
    learningRate: Type.Number({ exclusiveMinimum: 0, maximum: 100, default: 0.05 }),
    maxExamples: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0, description: 'cap on local examples per round; 0 = all' }),
    // A string, not a union of the names: an unknown name is answered by createStrategy with HUB_ERR_STRATEGY_UNKNOWN
    // listing the valid names, instead of one schema violation per name.
    strategy: Type.String({ maxLength: 64, default: 'fedavg', description: `aggregation strategy: ${STRATEGY_NAMES.join(', ')}` }),
    strategyOptions: Type.Record(
      Type.String(),
      Type.Number({ minimum: -1_000_000, maximum: 1_000_000, description: "the outer bounds; each option's own range is checked by its strategy" }),
      { default: {} },
    ),
    compression: Type.Optional(EncodingRequestSchema),
    downlink: Type.Optional(EncodingRequestSchema),
    uplink: Type.Optional(EncodingRequestSchema),
    maxUpdateNorm: Type.Number({ minimum: 0, maximum: 1e9, default: 1000, description: 'L2 bound on an update (delta); 0 = none' }),
    weightCapFactor: Type.Number({
      ...WEIGHT_CAP_FACTOR_RANGE, default: DEFAULT_WEIGHT_CAP_FACTOR,
      description: 'no update weighs more than this × the lower median of the round\'s (bounded) example counts',
    }),
    validationSet: Type.Optional(Type.String({
      minLength: 1, maxLength: 128, description: 'data set (id or name, POST /v1/datasets) the hub evaluates every new version on',
    })),
    seed: Type.Integer({ minimum: 0, maximum: 4_294_967_295, default: 1 }),
    quantize: Type.Optional(CampaignQuantizeSchema),
    constraints: Type.Object(
      {
        maxTemperatureC: Type.Optional(Type.Number({ minimum: -100, maximum: 200 })),
        minBatteryPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
        requireCharging: Type.Optional(Type.Boolean()),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type CampaignRequest = Static<typeof CampaignRequestSchema>;

/** The stored, fully resolved configuration of a campaign. */
export interface CampaignConfig {
  selector: string;
  clients: number;
  minClients: number;
  overSelect: number;
  deadlineSec: number;
  selectionTimeoutSec: number;
  /** Absent in campaigns stored before it existed: then 10. */
  rejoinGraceSec?: number;
  evaluate: boolean;
  evalTimeoutSec: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  proximalMu: number;
  maxExamples: number;
  strategy: string;
  strategyOptions: Record<string, number>;
  /** Encoding of the models devices download. Campaigns stored before the one vocabulary say `none`: read as fp32. */
  downlink: Encoding;
  /** Encoding of the updates devices upload. */
  uplink: Encoding;
  maxUpdateNorm: number;
  /** Cap on an update's weight relative to the round's median; absent in campaigns stored before it existed: then 3. */
  weightCapFactor?: number;
  /** Id of the validation set of hub-side evaluation, if any. */
  validationSetId?: string;
  seed: number;
  /** Quantize the final version once the campaign completed (campaign-quantize.ts); absent = not asked. */
  quantize?: CampaignQuantizeConfig;
  constraints: { maxTemperatureC?: number; minBatteryPercent?: number; requireCharging?: boolean };
}

/**
 * A stored config in today's vocabulary: campaigns stored before it wrote `none` for fp32 (a deprecated alias).
 * Anything else is left as stored, for `storedCampaignProblems` to report.
 */
export function upgradeStoredConfig(config: CampaignConfig): CampaignConfig {
  const canonical = (value: unknown): Encoding => (typeof value === 'string' && Object.hasOwn(DEPRECATED_ENCODING_ALIASES, value)
    ? DEPRECATED_ENCODING_ALIASES[value as DeprecatedEncodingAlias]
    : value as Encoding);
  return { ...config, downlink: canonical(config.downlink), uplink: canonical(config.uplink) };
}
