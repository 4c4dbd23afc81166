/**
 * Alert rules by name (the names are a contract: HTTP, events, metrics, webhook) and their settings: one uniform
 * shape per rule, defaults here, overrides from the hub config key `alerts` (hub/docs/health.md#rules). Thresholds
 * are in the unit of the rule's measurement (percent, °C, accuracy points, PSI); durations in seconds.
 */
import Type, { type Static } from 'typebox';

export const ALERT_RULES = [
  'device-offline', 'cpu-pressure', 'memory-pressure', 'temperature', 'disk-low', 'accuracy-drift', 'input-drift', 'rollout-failed', 'round-failed',
] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

export type AlertSeverity = 'warning' | 'critical';

const Threshold = (description: string) => Type.Optional(Type.Number({ minimum: -1e9, maximum: 1e9, description }));
const Seconds = (description: string) => Type.Optional(Type.Number({ minimum: 0, maximum: 30 * 86_400, description }));

export const RuleSettingsSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'default true' })),
    openAt: Threshold('the measurement opens the alert at this value (or beyond, in the rule\'s direction)'),
    resolveAt: Threshold('an open alert resolves once the measurement is back past this value (hysteresis)'),
    criticalAt: Threshold('at this value the alert is critical instead of warning'),
    openForSec: Seconds('the opening condition must hold this long'),
    resolveForSec: Seconds('the resolving condition must hold this long'),
    minExamples: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e9, description: 'samples a quality measurement needs to count' })),
  },
  { additionalProperties: false },
);
export type RuleSettingsInput = Static<typeof RuleSettingsSchema>;

/** The `alerts` config key: any subset of rules, each with any subset of settings; the rest keep their defaults. */
export const AlertsConfigSchema = Type.Partial(
  Type.Record(Type.Union(ALERT_RULES.map((rule) => Type.Literal(rule))), RuleSettingsSchema),
  { additionalProperties: false, description: 'alert rule settings by rule name, overriding the defaults setting by setting (hub/docs/health.md)' },
);
export type AlertsConfig = Partial<Record<AlertRule, RuleSettingsInput>>;

export interface RuleSettings {
  enabled: boolean;
  severity: AlertSeverity;
  openAt: number;
  resolveAt: number;
  criticalAt: number | null;
  openForSec: number;
  resolveForSec: number;
  minExamples: number;
}

const rule = (settings: Partial<RuleSettings>): RuleSettings => ({
  enabled: true, severity: 'warning', openAt: 0, resolveAt: 0, criticalAt: null, openForSec: 0, resolveForSec: 0, minExamples: 0, ...settings,
});

/** The defaults of every rule (hub/docs/health.md#rules cites where each comes from). */
export const DEFAULT_RULES: Readonly<Record<AlertRule, RuleSettings>> = Object.freeze({
  'device-offline': rule({ severity: 'critical', openForSec: 60 }),
  'cpu-pressure': rule({ openAt: 90, resolveAt: 75, openForSec: 300, resolveForSec: 120 }),
  'memory-pressure': rule({ openAt: 90, resolveAt: 80, openForSec: 300 }),
  temperature: rule({ openAt: 80, resolveAt: 70, criticalAt: 90, openForSec: 120 }),
  // Percent of the disk free: lower is worse.
  'disk-low': rule({ openAt: 10, resolveAt: 15 }),
  // Accuracy points (percentage points) below the device's baseline.
  'accuracy-drift': rule({ openAt: 10, resolveAt: 5, minExamples: 50 }),
  // Population stability index of the inputs against the training baseline (Siddiqi 2006).
  'input-drift': rule({ openAt: 0.25, resolveAt: 0.1, minExamples: 200 }),
  'rollout-failed': rule({}),
  'round-failed': rule({}),
});

/** Every rule's settings: the defaults with `overrides` applied setting by setting. */
export function resolveRules(overrides: AlertsConfig | undefined): Readonly<Record<AlertRule, RuleSettings>> {
  const rules = {} as Record<AlertRule, RuleSettings>;
  for (const name of ALERT_RULES) {
    const given = Object.fromEntries(Object.entries(overrides?.[name] ?? {}).filter(([, value]) => value !== undefined));
    rules[name] = Object.freeze({ ...DEFAULT_RULES[name], ...given });
  }
  return Object.freeze(rules);
}
