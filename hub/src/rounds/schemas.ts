/** TypeBox schemas of the rounds API: a "round" resource is a campaign of N federated rounds. */
import Type, { type Static, type TSchema } from 'typebox';
import { CAMPAIGN_QUANTIZATION_STATES } from './campaign-quantization-repo.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const ParticipantSchema = Type.Object({
  deviceId: Type.String(),
  deviceName: Type.Union([Type.String(), Type.Null()]),
  state: Type.String({ description: 'selected | training | updated | refused | failed | dropped | cancelled' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  exampleCount: Nullable(Type.Integer({ description: 'examples the update claims' })),
  declaredExamples: Nullable(Type.Integer({ description: 'training examples the device had declared when it was selected' })),
  weight: Nullable(Type.Integer({ description: 'weight the update carried in the aggregation: the claim, bounded by maxExamples, the declaration and weightCapFactor × the round median' })),
  updateBytes: Nullable(Type.Integer()),
  trainMetrics: Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()]),
  evalAccuracy: Nullable(Type.Number()),
  evalLoss: Nullable(Type.Number()),
  evalExamples: Nullable(Type.Integer()),
});

export const RejectionCountSchema = Type.Object({ deviceId: Type.String(), code: Type.String(), count: Type.Integer() });

export const RoundSchema = Type.Object({
  id: Type.String(),
  number: Type.Integer(),
  state: Type.String({ description: 'created | selecting | training | aggregating | evaluating | committed | failed' }),
  baseVersionId: Type.String(),
  resultVersionId: Type.Union([Type.String(), Type.Null()]),
  targetClients: Type.Integer(),
  minClients: Type.Integer(),
  selected: Type.Integer(),
  updates: Type.Integer(),
  accuracy: Nullable(Type.Number({ description: 'fleet-weighted federated evaluation of the result' })),
  loss: Nullable(Type.Number()),
  trainLoss: Nullable(Type.Number()),
  hubAccuracy: Nullable(Type.Number({ description: 'hub-side evaluation of the result on the campaign validation set' })),
  hubLoss: Nullable(Type.Number()),
  bytesDown: Type.Integer(),
  bytesUp: Type.Integer(),
  rejectedUpdates: Type.Integer(),
  rejections: Type.Array(RejectionCountSchema),
  error: Type.Union([Type.String(), Type.Null()], { description: 'why the round failed' }),
  errorCode: Type.Union([Type.String(), Type.Null()], { description: 'HUB_ERR_* code of `error`: branch on it, not on the text' }),
  deadlineAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  durationMs: Nullable(Type.Integer()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  participants: Type.Array(ParticipantSchema),
});

export const CampaignQuantizationSchema = Type.Object({
  state: Type.Enum(CAMPAIGN_QUANTIZATION_STATES, { description: 'pending → started (jobId) | refused (errorCode)' }),
  jobId: Type.Union([Type.String(), Type.Null()], { description: 'the quantization job of the final version: GET /v1/quantizations/:id' }),
  errorCode: Type.Union([Type.String(), Type.Null()], { description: 'HUB_ERR_* code the job\'s start was refused with: branch on it, not on the text' }),
  error: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
}, { description: 'what became of `config.quantize` once the campaign completed; absent before, or when not asked' });

export const CampaignSchema = Type.Object({
  id: Type.String(),
  modelId: Type.String(),
  modelName: Type.String(),
  state: Type.String({ description: 'running | completed | failed | cancelled' }),
  roundsTotal: Type.Integer(),
  roundsDone: Type.Integer(),
  baseVersionId: Type.String(),
  currentVersionId: Type.String(),
  config: Type.Record(Type.String(), Type.Unknown()),
  error: Type.Union([Type.String(), Type.Null()], { description: 'why the campaign failed or was cancelled' }),
  errorCode: Type.Union([Type.String(), Type.Null()], { description: 'HUB_ERR_* code of `error`: branch on it, not on the text' }),
  accuracy: Type.Array(Nullable(Type.Number()), { description: 'per committed round' }),
  loss: Type.Array(Nullable(Type.Number())),
  hubAccuracy: Type.Array(Nullable(Type.Number()), { description: 'per committed round, with a validation set' }),
  bytesDown: Type.Integer(),
  bytesUp: Type.Integer(),
  rejectedUpdates: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  quantization: Type.Optional(CampaignQuantizationSchema),
  currentRound: Type.Union([Type.Omit(RoundSchema, ['participants']), Type.Null()]),
});

export const CampaignDetailSchema = Type.Intersect([CampaignSchema, Type.Object({ rounds: Type.Array(RoundSchema) })]);

export type ParticipantJson = Static<typeof ParticipantSchema>;
export type RoundJson = Static<typeof RoundSchema>;
export type CampaignJson = Static<typeof CampaignSchema>;
export type CampaignDetailJson = Static<typeof CampaignDetailSchema>;

export const CampaignParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const CampaignListQuerySchema = Type.Object({
  state: Type.Optional(Type.String()),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
});
