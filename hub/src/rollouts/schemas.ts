/**
 * TypeBox schemas of the rollouts API's answers (the request is rollout-request.ts). Waves and targets are numbered
 * from 1; counts are keyed by target state.
 */
import { ENCODINGS } from '@fedfleet/proto';
import Type, { type Static } from 'typebox';
import { ROLLOUT_FORMATS } from './rollout-request.js';
import { ROLLOUT_STATES, TARGET_STATES, WAVE_STATES } from './rollout-state.js';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T, description?: string) =>
  Type.Union([schema, Type.Null()], description ? { description } : {});
const time = (description?: string) => nullable(Type.String({ format: 'date-time' }), description);

/** Targets per state, and their total. */
export const TargetCountsSchema = Type.Object({
  total: Type.Integer(),
  ...Object.fromEntries(TARGET_STATES.map((s) => [s, Type.Integer()])) as Record<(typeof TARGET_STATES)[number], ReturnType<typeof Type.Integer>>,
});

export const SelfTestSchema = Type.Object({
  examples: Type.Integer(), accuracy: Type.Number(), p50Ms: Type.Number(), p95Ms: Type.Number(),
}, { description: 'a self-test on the device\'s held-out local data' });

export const ShadowStatsSchema = Type.Object({
  inferences: Type.Integer(), agreements: Type.Integer({ description: 'champion and challenger predicted the same class' }),
  labelled: Type.Integer(), championCorrect: Type.Integer(), challengerCorrect: Type.Integer(),
});

export const ShadowResultSchema = Type.Object({
  inferences: Type.Integer(), labelled: Type.Integer(),
  agreement: nullable(Type.Number(), 'agreements / inferences over the wave'),
  championAccuracy: nullable(Type.Number()), challengerAccuracy: nullable(Type.Number()),
  dropPts: nullable(Type.Number({ description: 'champion − challenger accuracy, in points' })),
  verdict: nullable(Type.Enum(['promoted', 'worse']), 'null while the shadow runs'),
}, { description: 'the wave\'s pooled shadow counts (champion = the serving version, challenger = this rollout\'s)' });

export const WaveSchema = Type.Object({
  number: Type.Integer({ minimum: 1 }),
  percent: nullable(Type.Number()),
  devices: nullable(Type.Integer()),
  successThreshold: Type.Number(),
  errorThreshold: Type.Number(),
  soakSec: Type.Number(),
  shadow: nullable(Type.Object({ minInferences: Type.Integer(), maxAccuracyDropPts: Type.Number() })),
  state: Type.Enum(WAVE_STATES, { description: 'pending → (shadowing →) deploying → soaking → passed | aborted' }),
  size: Type.Integer({ description: 'targets in the wave' }),
  counts: TargetCountsSchema,
  healthy: Type.Integer({ description: 'devices that confirmed the version and passed the gate' }),
  failed: Type.Integer({ description: 'devices that failed (install, gate, timeout, stopped serving during the soak)' }),
  shadowResult: nullable(ShadowResultSchema),
  startedAt: time(),
  soakEndsAt: time('a soaking wave passes then; a shadowing wave is judged no earlier'),
  finishedAt: time(),
});

export const GateSchema = Type.Object({ maxAccuracyDropPts: Type.Number(), maxLatencyFactor: Type.Number() });

export const RolloutSchema = Type.Object({
  id: Type.String(),
  modelId: Type.String(),
  modelName: Type.String(),
  versionId: Type.String(),
  version: Type.Integer(),
  format: Type.Enum(ROLLOUT_FORMATS),
  encoding: Type.Enum(ENCODINGS),
  bundleSha256: Type.String({ description: 'sha256 of the bundle payload the devices fetch' }),
  selector: Type.String(),
  gate: GateSchema,
  deviceTimeoutSec: Type.Number(),
  continuous: Type.Boolean(),
  state: Type.Enum(ROLLOUT_STATES, { description: 'running ⇄ paused → completed | aborted | superseded' }),
  currentWave: Type.Integer({ description: 'the wave being deployed (0 before the first starts; the last when completed)' }),
  errorCode: nullable(Type.String(), 'HUB_ERR_* of `reason` when aborted or superseded: branch on it, not on the text'),
  reason: nullable(Type.String()),
  counts: TargetCountsSchema,
  waves: Type.Array(WaveSchema),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  finishedAt: time(),
});

export const TargetSchema = Type.Object({
  deviceId: Type.String(),
  deviceName: nullable(Type.String(), 'null once the device was revoked'),
  wave: Type.Integer({ minimum: 1 }),
  mode: Type.Enum(['activate', 'shadow']),
  state: Type.Enum(TARGET_STATES),
  verdict: nullable(Type.Enum(['healthy', 'failed']), 'what the device counts as in its wave\'s thresholds'),
  changed: Type.Boolean({ description: 'the rollout installed its version on the device (what an abort rolls back)' }),
  commandId: nullable(Type.String()),
  previousVersionId: nullable(Type.String()),
  selfTest: nullable(SelfTestSchema),
  baseline: nullable(SelfTestSchema),
  shadow: nullable(ShadowStatsSchema),
  errorCode: nullable(Type.String(), 'HUB_ERR_ROLLOUT_* or the device\'s AGENT_ERR_*'),
  reason: nullable(Type.String()),
  attempts: Type.Integer({ description: 'commands sent (a busy device is retried)' }),
  deadlineAt: time('when an online device that has not answered counts as failed'),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const RolloutDetailSchema = Type.Intersect([RolloutSchema, Type.Object({ targets: Type.Array(TargetSchema) })]);

export const RolloutParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const RolloutListQuerySchema = Type.Object({
  state: Type.Optional(Type.Enum(ROLLOUT_STATES)),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
});

export const RolloutActionSchema = Type.Object({
  reason: Type.Optional(Type.String({ maxLength: 500, description: 'recorded with the action (abort: the rollout\'s reason)' })),
}, { additionalProperties: false });

export type TargetCountsJson = Static<typeof TargetCountsSchema>;
export type SelfTestJson = Static<typeof SelfTestSchema>;
export type ShadowStatsJson = Static<typeof ShadowStatsSchema>;
export type ShadowResultJson = Static<typeof ShadowResultSchema>;
export type WaveJson = Static<typeof WaveSchema>;
export type RolloutJson = Static<typeof RolloutSchema>;
export type TargetJson = Static<typeof TargetSchema>;
export type RolloutDetailJson = Static<typeof RolloutDetailSchema>;
