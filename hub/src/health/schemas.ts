/** TypeBox schemas of the alerts and fleet health API: the contract of its routes and the source of the OpenAPI document. */
import Type, { type Static } from 'typebox';
import { FleetHealthSchema } from '../fleet/schemas.js';
import { ALERT_RULES } from './alert-config.js';

const Iso = () => Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const AlertStateSchema = Type.Union([Type.Literal('open'), Type.Literal('resolved')]);
export type AlertState = Static<typeof AlertStateSchema>;

export const AlertSchema = Type.Object({
  id: Type.String(),
  rule: Type.String({ description: `one of ${ALERT_RULES.join(', ')}` }),
  severity: Type.Union([Type.Literal('warning'), Type.Literal('critical')]),
  subject: Type.String({ description: "'device:<id>' | 'rollout:<id>' | 'campaign:<id>'" }),
  deviceId: Nullable(Type.String()),
  state: AlertStateSchema,
  message: Type.String(),
  value: Nullable(Type.Number({ description: 'the measurement that opened or last refreshed it, in the unit of the rule' })),
  threshold: Nullable(Type.Number({ description: "the rule's opening threshold" })),
  openedAt: Iso(),
  lastSeenAt: Iso(),
  resolvedAt: Nullable(Iso()),
  acknowledgedAt: Nullable(Iso()),
  acknowledgedBy: Nullable(Type.String()),
});
export type AlertJson = Static<typeof AlertSchema>;

export const AlertListQuerySchema = Type.Object(
  {
    state: Type.Optional(AlertStateSchema),
    rule: Type.Optional(Type.Union(ALERT_RULES.map((rule) => Type.Literal(rule)))),
    deviceId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);
export type AlertListQuery = Static<typeof AlertListQuerySchema>;

export const AlertListSchema = Type.Object({ alerts: Type.Array(AlertSchema, { description: 'newest first' }) });

export const AlertParamsSchema = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) });

const HealthCountsSchema = Type.Object({ healthy: Type.Integer(), degraded: Type.Integer(), offline: Type.Integer() });
export type HealthCounts = Static<typeof HealthCountsSchema>;

/** A device's health is offline exactly when its status is: one `offline` count serves both. */
const LabelCountsSchema = Type.Object({ online: Type.Integer(), offline: Type.Integer(), healthy: Type.Integer(), degraded: Type.Integer() });

export const VersionHealthSchema = Type.Object({
  modelId: Nullable(Type.String()),
  versionId: Nullable(Type.String({ description: 'null: devices serving no version' })),
  version: Nullable(Type.Integer({ description: "the registry's version number; null when the registry does not hold it" })),
  devices: Type.Integer(),
  healthy: Type.Integer(),
  degraded: Type.Integer(),
  offline: Type.Integer(),
  meanAccuracy: Nullable(Type.Number({ description: 'mean of the latest accuracy (0..1) of its devices on this version; null when none reported' })),
});
export type VersionHealth = Static<typeof VersionHealthSchema>;

/** `GET /v1/fleet/health`: the fleet's counts (total, byStatus, byLabel) plus health, open alerts and serving versions. */
export const FleetHealthSummarySchema = Type.Object({
  total: FleetHealthSchema.properties.total,
  byStatus: FleetHealthSchema.properties.byStatus,
  byLabel: Type.Record(Type.String(), LabelCountsSchema, {
    description: '"key=value" → devices by status (online, offline) and by health (healthy, degraded; offline health = offline status)',
  }),
  health: HealthCountsSchema,
  openAlerts: Type.Object({ total: Type.Integer(), byRule: Type.Record(Type.String(), Type.Integer()) }),
  byVersion: Type.Array(VersionHealthSchema, { description: 'by serving model version, most devices first' }),
});
export type FleetHealthSummary = Static<typeof FleetHealthSummarySchema>;
