/**
 * What `/v1/loop-policies` accepts and answers (hub/docs/loop.md): a policy's fields with their defaults in one
 * place (LOOP_DEFAULTS), the PATCH body (the same fields, none defaulted), the policy and action JSON.
 */
import Type, { type Static, type TProperties } from 'typebox';
import { ALERT_RULES } from '../health/alert-config.js';
import { CampaignRequestSchema } from '../rounds/campaign-config.js';
import { GateRequestSchema, WaveRequestSchema } from '../rollouts/rollout-request.js';

export const LOOP_DEFAULTS = Object.freeze({
  rules: Object.freeze(['accuracy-drift', 'input-drift'] as const),
  minAlerts: 1,
  minImprovementPoints: 0,
  cooldownSec: 3600,
  maxActionsPerDay: 4,
  /** The default canary: a shadow wave on 10 % of the group, then every device (issue 10's shadow canary). */
  shadowWavePercent: 10,
  shadowMinInferences: 100,
});

export const LoopTriggerSchema = Type.Object({
  rules: Type.Array(Type.Enum(ALERT_RULES), {
    minItems: 1, maxItems: ALERT_RULES.length, uniqueItems: true, default: [...LOOP_DEFAULTS.rules], description: 'alert rules that count',
  }),
  minAlerts: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: `open alerts of those rules in the group that trigger (default ${LOOP_DEFAULTS.minAlerts})` })),
  minFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'share of the group\'s devices with an open alert of those rules that triggers (instead of minAlerts)' })),
}, { additionalProperties: false });
export type LoopTrigger = Static<typeof LoopTriggerSchema>;

/** The campaign the loop starts: `POST /v1/rounds` fields; model, base version and selector come from the policy. */
export const LoopCampaignSchema = Type.Omit(CampaignRequestSchema, ['model', 'baseVersion', 'selector']);
export type LoopCampaign = Static<typeof LoopCampaignSchema>;

export const LoopCanarySchema = Type.Object({
  shadow: Type.Boolean({ default: true, description: 'the first default wave shadows (challenger beside the serving version) before it deploys' }),
  waves: Type.Optional(Type.Array(WaveRequestSchema, { minItems: 1, maxItems: 20, description: 'rollout waves; default 10 % (shadow) → 100 %' })),
  gate: Type.Optional(GateRequestSchema),
}, { additionalProperties: false });
export type LoopCanary = Static<typeof LoopCanarySchema>;

/**
 * The policy fields; `defaults` false for PATCH, where a missing field keeps its stored value. Only `name` and
 * `campaign` have no default: the others are optional in both bodies.
 */
function policyFields(defaults: boolean): TProperties {
  const d = <T>(value: T) => (defaults ? { default: value } : {});
  const O = Type.Optional;
  return {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: '\\S' }),
    campaign: LoopCampaignSchema,
    selector: O(Type.String({ maxLength: 2000, ...d(''), description: 'label selector of the device group' })),
    trigger: O(Type.Object(LoopTriggerSchema.properties, { additionalProperties: false, ...d({}) })),
    canary: O(Type.Object(LoopCanarySchema.properties, { additionalProperties: false, ...d({}) })),
    minImprovementPoints: O(Type.Number({
      minimum: 0, maximum: 100, ...d(LOOP_DEFAULTS.minImprovementPoints),
      description: 'accuracy points the new version must gain over the serving one (0: strictly higher)',
    })),
    cooldownSec: O(Type.Number({ minimum: 0, maximum: 30 * 86_400, ...d(LOOP_DEFAULTS.cooldownSec), description: 'least time between two campaigns of the policy' })),
    maxActionsPerDay: O(Type.Integer({ minimum: 1, maximum: 1000, ...d(LOOP_DEFAULTS.maxActionsPerDay), description: 'campaigns started in any 24 h' })),
    enabled: O(Type.Boolean({ ...d(true) })),
  };
}

export const LoopPolicyRequestSchema = Type.Object({
  ...policyFields(true),
  model: Type.String({ minLength: 1, maxLength: 128, description: 'model id or name the group serves' }),
}, { additionalProperties: false });
/** A POST body once its defaults were applied (the schema's properties are built, so its static type is loose). */
export interface LoopPolicyRequest {
  name: string; selector: string; model: string; trigger: LoopTrigger; campaign: LoopCampaign; canary: LoopCanary;
  minImprovementPoints: number; cooldownSec: number; maxActionsPerDay: number; enabled: boolean;
}

export const LoopPolicyPatchSchema = Type.Partial(Type.Object(policyFields(false)), { additionalProperties: false, minProperties: 1 });
export type LoopPolicyPatch = Partial<Omit<LoopPolicyRequest, 'model'>>;

export const LoopParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const LOOP_RUN_STATES = ['training', 'canary', 'finished'] as const;
export type LoopRunState = (typeof LOOP_RUN_STATES)[number];

export const LoopPolicySchema = Type.Object({
  id: Type.String(), name: Type.String(), selector: Type.String(), modelId: Type.String(),
  trigger: LoopTriggerSchema, campaign: LoopCampaignSchema, canary: LoopCanarySchema,
  minImprovementPoints: Type.Number(), cooldownSec: Type.Number(), maxActionsPerDay: Type.Integer(), enabled: Type.Boolean(),
  /** The campaign or canary of this policy in flight, if any. */
  running: Type.Union([Type.Object({
    runId: Type.String(), state: Type.Enum(LOOP_RUN_STATES), campaignId: Type.String(), rolloutId: Type.Union([Type.String(), Type.Null()]),
  }), Type.Null()]),
  createdAt: Type.String(), updatedAt: Type.String(),
});
export type LoopPolicyJson = Static<typeof LoopPolicySchema>;

export const LOOP_ACTION_KINDS = ['campaign-started', 'campaign-refused', 'campaign-ended', 'canary-started', 'canary-refused', 'no-improvement', 'policy-disabled', 'canary-ended'] as const;
export type LoopActionKind = (typeof LOOP_ACTION_KINDS)[number];

export const LoopActionSchema = Type.Object({
  seq: Type.Integer(), policyId: Type.String(), runId: Type.Union([Type.String(), Type.Null()]), kind: Type.Enum(LOOP_ACTION_KINDS),
  reason: Type.String(), details: Type.Record(Type.String(), Type.Unknown()), at: Type.String(),
});
export type LoopActionJson = Static<typeof LoopActionSchema>;

export const LoopActionListSchema = Type.Object({ actions: Type.Array(LoopActionSchema) });
