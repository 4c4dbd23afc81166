/** TypeBox schemas of the fleet API: the contract of its routes and the source of the OpenAPI document. */
import Type, { type Static } from 'typebox';
import { TOKEN_TTL_SEC } from './enrollment-tokens.js';
import { LabelKeySchema, LabelsSchema } from './labels.js';
import { TelemetryJsonSchema } from './telemetry-json.js';
import { TELEMETRY_METRIC_NAMES } from '../telemetry/telemetry-metrics.js';

export const DeviceIdParamsSchema = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) });
export const TokenIdParamsSchema = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) });

const profileFields = {
  kind: Type.String({ minLength: 1, maxLength: 64, description: 'e.g. rpi4, linux-x64, mcu-cortex-m4' }),
  ramBytes: Type.Integer({ minimum: 0, maximum: 2 ** 48 }),
  flashBytes: Type.Integer({ minimum: 0, maximum: 2 ** 52 }),
  cpuMhz: Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'CPU clock; 0 when the device cannot tell' }),
  int8Only: Type.Boolean({ description: 'integer-only inference' }),
  canTrain: Type.Boolean({ description: 'has a training runtime' }),
  cores: Type.Integer({ minimum: 0, maximum: 1024 }),
  arch: Type.String({ maxLength: 32 }),
};

export const DeviceProfileSchema = Type.Object(profileFields);

/** What a device sends at enrollment; `cores` (default 1) and `arch` (default '') may be left out. */
export const DeviceProfileInputSchema = Type.Object(
  {
    ...profileFields,
    cores: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024, description: 'default 1' })),
    arch: Type.Optional(Type.String({ maxLength: 32, description: "default ''" })),
  },
  { additionalProperties: false },
);

export const DeviceStatusSchema = Type.Union([Type.Literal('online'), Type.Literal('offline')]);

export const DeviceHealthStatusSchema = Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('offline')]);
export type DeviceHealthStatus = Static<typeof DeviceHealthStatusSchema>;

/** hub/docs/health.md#device-health: offline from liveness, degraded while a device alert other than device-offline is open. */
export const DeviceHealthSchema = Type.Object({
  status: DeviceHealthStatusSchema,
  reasons: Type.Array(Type.String(), { description: 'why it is not healthy: the messages of its open alerts, or why it is offline' }),
});
export type DeviceHealth = Static<typeof DeviceHealthSchema>;

/** A version as the model registry names it; null when the device reports none or the registry does not hold it. */
const RegistryVersionSchema = Type.Union([Type.Object({ model: Type.String(), version: Type.Integer() }), Type.Null()]);

export const DeviceSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  labels: LabelsSchema,
  status: DeviceStatusSchema,
  lastSeen: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  telemetry: Type.Union([TelemetryJsonSchema, Type.Null()]),
  profile: DeviceProfileSchema,
  agentVersion: Type.Union([Type.String(), Type.Null()]),
  activeModelId: Type.Union([Type.String(), Type.Null()]),
  activeVersionId: Type.Union([Type.String(), Type.Null()], { description: 'the version the device serves (its Status)' }),
  activeSha256: Type.Union([Type.String(), Type.Null()], { description: 'payload sha256 of the serving version' }),
  previousVersionId: Type.Union([Type.String(), Type.Null()], { description: 'the version the device would roll back to' }),
  shadowVersionId: Type.Union([Type.String(), Type.Null()], { description: 'the challenger it runs in shadow' }),
  registryVersions: Type.Object(
    { active: RegistryVersionSchema, previous: RegistryVersionSchema, shadow: RegistryVersionSchema },
    { description: "the registry's model name and version number of activeVersionId, previousVersionId, shadowVersionId" },
  ),
  createdAt: Type.String({ format: 'date-time' }),
  health: DeviceHealthSchema,
});
export type DeviceJson = Static<typeof DeviceSchema>;

export const DeviceListQuerySchema = Type.Object({
  selector: Type.Optional(Type.String({ maxLength: 2000, description: 'label selector: k=v, k!=v, k, !k; comma = AND' })),
  status: Type.Optional(DeviceStatusSchema),
  health: Type.Optional(DeviceHealthStatusSchema),
  limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }),
});

export const DevicePatchSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    labels: Type.Optional(
      Type.Object(
        {
          set: Type.Optional(LabelsSchema),
          remove: Type.Optional(Type.Array(LabelKeySchema, { maxItems: 64 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type DevicePatch = Static<typeof DevicePatchSchema>;

export const TelemetryHistoryQuerySchema = Type.Object(
  {
    metric: Type.Union(TELEMETRY_METRIC_NAMES.map((name) => Type.Literal(name)), { description: 'a numeric Telemetry field' }),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'start of the range (default: one hour before `to`)' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'end of the range (default: now)' })),
    step: Type.Optional(Type.Integer({ minimum: 1, maximum: 31 * 86_400, description: 'seconds per point (default: the range / 2000, at least 10)' })),
  },
  { additionalProperties: false },
);

const RawPointSchema = Type.Object({ at: Type.String({ format: 'date-time' }), value: Type.Number() });
const RollupPointSchema = Type.Object({
  at: Type.String({ format: 'date-time', description: 'start of the step' }),
  min: Type.Number(),
  mean: Type.Number(),
  max: Type.Number(),
  count: Type.Integer({ description: 'samples summarised' }),
});

export const TelemetrySeriesSchema = Type.Object({
  metric: Type.String(),
  resolution: Type.Union([Type.Literal('raw'), Type.Literal('minute'), Type.Literal('hour')]),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  stepSec: Type.Number(),
  truncated: Type.Boolean(),
  points: Type.Array(Type.Union([RawPointSchema, RollupPointSchema])),
});

export const TokenCreateSchema = Type.Object(
  {
    labels: Type.Optional(LabelsSchema),
    ttlSec: Type.Integer({
      minimum: TOKEN_TTL_SEC.min, maximum: TOKEN_TTL_SEC.max, default: TOKEN_TTL_SEC.default,
      description: `lifetime in seconds, at least ${TOKEN_TTL_SEC.min} and at most ${TOKEN_TTL_SEC.max}`,
    }),
    maxUses: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'devices it may enroll' }),
  },
  { additionalProperties: false },
);

export const TokenSchema = Type.Object({
  id: Type.String(),
  labels: LabelsSchema,
  expiresAt: Type.String({ format: 'date-time' }),
  maxUses: Type.Integer(),
  uses: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  revoked: Type.Boolean(),
  expired: Type.Boolean(),
});

export const CreatedTokenSchema = Type.Object({
  id: Type.String(),
  token: Type.String({ description: 'the secret; shown only in this response' }),
  labels: LabelsSchema,
  expiresAt: Type.String({ format: 'date-time' }),
  maxUses: Type.Integer(),
});

export const EnrollRequestSchema = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200 }),
    name: Type.String({ minLength: 1, maxLength: 128 }),
    profile: DeviceProfileInputSchema,
    labels: Type.Optional(LabelsSchema),
  },
  { additionalProperties: false },
);
export type EnrollRequest = Static<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = Type.Object({
  deviceId: Type.String(),
  name: Type.String(),
  mqttUrl: Type.String(),
  username: Type.String(),
  password: Type.String({ description: 'shown only in this response' }),
  clientId: Type.String(),
  hubPublicKey: Type.String({ description: 'Ed25519 public key (SPKI PEM) that signs model bundles' }),
  heartbeatSec: Type.Integer(),
  labels: LabelsSchema,
});
export type EnrollResponse = Static<typeof EnrollResponseSchema>;

const StatusCountsSchema = Type.Object({ online: Type.Integer(), offline: Type.Integer() });

export const FleetHealthSchema = Type.Object({
  total: Type.Integer(),
  byStatus: StatusCountsSchema,
  byLabel: Type.Record(Type.String(), StatusCountsSchema, { description: '"key=value" → counts' }),
});
export type FleetHealth = Static<typeof FleetHealthSchema>;
