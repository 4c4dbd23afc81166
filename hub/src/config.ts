/**
 * Hub configuration: one TypeBox schema, four sources (flags > environment `FEDFLEET_*` > JSON config file >
 * defaults), validated once where it enters with every violation reported, then frozen.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { DEFAULT_MAX_ENVELOPE_BYTES } from '@fedfleet/proto';
import { HubError } from './errors.js';
import { AlertsConfigSchema } from './health/alert-config.js';

const Port = Type.Integer({ minimum: 0, maximum: 65535, description: 'TCP port; 0 picks a free one' });

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const HubConfigSchema = Type.Object(
  {
    dataDir: Type.String({ minLength: 1, description: 'directory of the SQLite database, blobs, admin token and hub key' }),
    httpPort: Port,
    mqttPort: Port,
    mqttWsPath: Type.String({
      pattern: '^(/[^\\s?#]*)?$', description: 'path of MQTT over WebSocket on the HTTP port; empty turns it off',
    }),
    host: Type.String({ minLength: 1, description: 'interface both listeners bind to' }),
    publicMqttUrl: Type.Optional(
      Type.String({ pattern: '^(mqtts?|wss?)://[^\\s]+$', description: 'MQTT URL enrolled devices are told to use (mqtt, mqtts, ws or wss)' }),
    ),
    adminToken: Type.Optional(Type.String({ minLength: 16, description: 'admin bearer token; generated when unset' })),
    broker: Type.String({
      // No credentials in the URL: they would show in `ps` and logs (brokerUsername / brokerPassword carry them).
      pattern: '^(embedded|mqtts?://[^\\s@/]+/?)$', description: '`embedded` (aedes in the hub) or the mqtt:// / mqtts:// URL of an external broker',
    }),
    brokerUsername: Type.Optional(Type.String({ minLength: 1, description: 'the hub\'s account on the external broker (a dynamic-security admin)' })),
    brokerPassword: Type.Optional(Type.String({ minLength: 1, description: 'password of brokerUsername' })),
    heartbeatSec: Type.Integer({ minimum: 1, maximum: 3600 }),
    missedHeartbeats: Type.Integer({ minimum: 1, maximum: 100 }),
    maxPayloadBytes: Type.Integer({ minimum: 16 * 1024, maximum: 256 * 1024 * 1024 }),
    logLevel: Type.Union([
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ]),
    telemetryRetentionHours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 3660 }),
    telemetryMinuteRetentionDays: Type.Number({ exclusiveMinimum: 0, maximum: 3660, description: 'minute rollups of telemetry older than this are pruned' }),
    telemetryHourRetentionDays: Type.Number({ exclusiveMinimum: 0, maximum: 3660, description: 'hour rollups of telemetry older than this are pruned' }),
    httpRequestTimeoutSec: Type.Integer({
      minimum: 1, maximum: 3600, description: 'an HTTP request (headers and body) not received in full within this is answered 408 and its connection closed',
    }),
    mqttConnectTimeoutSec: Type.Integer({
      minimum: 1, maximum: 300, description: 'an MQTT connection that has not been accepted (CONNECT authenticated) within this is closed',
    }),
    mqttMaxConnectBytes: Type.Integer({
      minimum: 1024, maximum: 16 * 1024 * 1024, description: 'largest MQTT packet (and total bytes) an unauthenticated connection may send',
    }),
    mqttPacketsPerSec: Type.Integer({
      minimum: 10, maximum: 1_000_000, description: 'MQTT packets per second one logged-in connection may send (burst: twice this); beyond, the hub stops reading its socket for a while',
    }),
    mqttLoginFailuresPerMin: Type.Integer({
      minimum: 1, maximum: 1_000_000, description: 'MQTT password checks per minute per client address that may fail (burst: the same number); beyond, logins from it are refused unchecked',
    }),
    enrollRatePerMin: Type.Integer({
      minimum: 1, maximum: 1_000_000, description: 'enrollment requests per minute per client address (burst: the same number)',
    }),
    enrollFailuresPerMin: Type.Integer({
      minimum: 1, maximum: 1_000_000, description: 'refused enrollment attempts (bad token) per minute per client address before 429',
    }),
    deviceRateLimits: Type.Optional(
      // Partial: any subset of kinds may be overridden; the others keep their defaults (device-rate-limiter.ts).
      Type.Partial(
        Type.Record(
          Type.Union([Type.Literal('status'), Type.Literal('telemetry'), Type.Literal('reply'), Type.Literal('update'), Type.Literal('fetch')]),
          Type.Object(
            {
              perSec: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
              burst: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
            },
            { additionalProperties: false },
          ),
        ),
        { additionalProperties: false, description: 'per-device message limits by topic kind, overriding the defaults kind by kind' },
      ),
    ),
    deviceBytesPerSec: Type.Integer({
      minimum: 1024, maximum: 1024 * 1024 * 1024, description: 'payload bytes per second one device may send (burst: 4 × maxPayloadBytes)',
    }),
    qualityIntervalSec: Type.Integer({
      minimum: 1, maximum: 3600, description: 'least seconds between two feedback-accuracy samples, and two input-drift measures, of one device',
    }),
    alerts: Type.Optional(AlertsConfigSchema),
    alertWebhookUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', description: 'URL that receives every alert event as a JSON POST' })),
    alertWebhookSecret: Type.Optional(Type.String({ minLength: 16, description: 'HMAC-SHA256 key of the X-Fedfleet-Signature header of webhook posts' })),
    loopEnabled: Type.Boolean({ description: 'closed-loop policies act (hub/docs/loop.md); false = stored but never act' }),
  },
  { additionalProperties: false },
);

export type HubConfig = Readonly<Static<typeof HubConfigSchema>>;
export type HubConfigKey = keyof Static<typeof HubConfigSchema>;

/** Defaults, documented in hub/docs/configuration.md. */
export const DEFAULT_CONFIG: HubConfig = Object.freeze({
  dataDir: './data',
  httpPort: 8080,
  mqttPort: 1883,
  mqttWsPath: '/mqtt',
  // Devices are other machines: both listeners must be reachable from the network. Everything is authenticated.
  host: '0.0.0.0',
  broker: 'embedded',
  heartbeatSec: 10,
  missedHeartbeats: 3,
  maxPayloadBytes: DEFAULT_MAX_ENVELOPE_BYTES,
  logLevel: 'info',
  telemetryRetentionHours: 168,
  telemetryMinuteRetentionDays: 30,
  telemetryHourRetentionDays: 365,
  // Node's own default, which fastify turns off (0): without it a client trickling a body holds its connection forever.
  httpRequestTimeoutSec: 300,
  mqttConnectTimeoutSec: 10,
  mqttMaxConnectBytes: 64 * 1024,
  mqttPacketsPerSec: 1000,
  mqttLoginFailuresPerMin: 30,
  enrollRatePerMin: 600,
  enrollFailuresPerMin: 20,
  deviceBytesPerSec: 4 * 1024 * 1024,
  qualityIntervalSec: 60,
  loopEnabled: true,
});

/** Per key: its command line flag and environment variable. */
export const CONFIG_SOURCES: Readonly<Record<HubConfigKey, { flag: string; env: string }>> = {
  dataDir: { flag: '--data-dir', env: 'FEDFLEET_DATA_DIR' },
  httpPort: { flag: '--http-port', env: 'FEDFLEET_HTTP_PORT' },
  mqttPort: { flag: '--mqtt-port', env: 'FEDFLEET_MQTT_PORT' },
  mqttWsPath: { flag: '--mqtt-ws-path', env: 'FEDFLEET_MQTT_WS_PATH' },
  host: { flag: '--host', env: 'FEDFLEET_HOST' },
  publicMqttUrl: { flag: '--public-mqtt-url', env: 'FEDFLEET_PUBLIC_MQTT_URL' },
  adminToken: { flag: '--admin-token', env: 'FEDFLEET_ADMIN_TOKEN' },
  broker: { flag: '--broker', env: 'FEDFLEET_BROKER' },
  brokerUsername: { flag: '--broker-username', env: 'FEDFLEET_BROKER_USERNAME' },
  brokerPassword: { flag: '--broker-password', env: 'FEDFLEET_BROKER_PASSWORD' },
  heartbeatSec: { flag: '--heartbeat-sec', env: 'FEDFLEET_HEARTBEAT_SEC' },
  missedHeartbeats: { flag: '--missed-heartbeats', env: 'FEDFLEET_MISSED_HEARTBEATS' },
  maxPayloadBytes: { flag: '--max-payload-bytes', env: 'FEDFLEET_MAX_PAYLOAD_BYTES' },
  logLevel: { flag: '--log-level', env: 'FEDFLEET_LOG_LEVEL' },
  telemetryRetentionHours: { flag: '--telemetry-retention-hours', env: 'FEDFLEET_TELEMETRY_RETENTION_HOURS' },
  telemetryMinuteRetentionDays: { flag: '--telemetry-minute-retention-days', env: 'FEDFLEET_TELEMETRY_MINUTE_RETENTION_DAYS' },
  telemetryHourRetentionDays: { flag: '--telemetry-hour-retention-days', env: 'FEDFLEET_TELEMETRY_HOUR_RETENTION_DAYS' },
  httpRequestTimeoutSec: { flag: '--http-request-timeout-sec', env: 'FEDFLEET_HTTP_REQUEST_TIMEOUT_SEC' },
  mqttConnectTimeoutSec: { flag: '--mqtt-connect-timeout-sec', env: 'FEDFLEET_MQTT_CONNECT_TIMEOUT_SEC' },
  mqttMaxConnectBytes: { flag: '--mqtt-max-connect-bytes', env: 'FEDFLEET_MQTT_MAX_CONNECT_BYTES' },
  mqttPacketsPerSec: { flag: '--mqtt-packets-per-sec', env: 'FEDFLEET_MQTT_PACKETS_PER_SEC' },
  mqttLoginFailuresPerMin: { flag: '--mqtt-login-failures-per-min', env: 'FEDFLEET_MQTT_LOGIN_FAILURES_PER_MIN' },
  enrollRatePerMin: { flag: '--enroll-rate-per-min', env: 'FEDFLEET_ENROLL_RATE_PER_MIN' },
  enrollFailuresPerMin: { flag: '--enroll-failures-per-min', env: 'FEDFLEET_ENROLL_FAILURES_PER_MIN' },
  deviceRateLimits: { flag: '--device-rate-limits', env: 'FEDFLEET_DEVICE_RATE_LIMITS' },
  deviceBytesPerSec: { flag: '--device-bytes-per-sec', env: 'FEDFLEET_DEVICE_BYTES_PER_SEC' },
  qualityIntervalSec: { flag: '--quality-interval-sec', env: 'FEDFLEET_QUALITY_INTERVAL_SEC' },
  alerts: { flag: '--alerts', env: 'FEDFLEET_ALERTS' },
  alertWebhookUrl: { flag: '--alert-webhook-url', env: 'FEDFLEET_ALERT_WEBHOOK_URL' },
  alertWebhookSecret: { flag: '--alert-webhook-secret', env: 'FEDFLEET_ALERT_WEBHOOK_SECRET' },
  loopEnabled: { flag: '--loop-enabled', env: 'FEDFLEET_LOOP_ENABLED' },
};

/** Environment variable naming the JSON config file (the `--config` flag wins). */
export const CONFIG_FILE_ENV = 'FEDFLEET_CONFIG';

const CONFIG_KEYS = Object.keys(CONFIG_SOURCES) as HubConfigKey[];
const NUMERIC_KEYS = new Set<HubConfigKey>([
  'httpPort',
  'mqttPort',
  'heartbeatSec',
  'missedHeartbeats',
  'maxPayloadBytes',
  'telemetryRetentionHours',
  'telemetryMinuteRetentionDays',
  'telemetryHourRetentionDays',
  'httpRequestTimeoutSec',
  'mqttConnectTimeoutSec',
  'mqttMaxConnectBytes',
  'mqttPacketsPerSec',
  'mqttLoginFailuresPerMin',
  'enrollRatePerMin',
  'enrollFailuresPerMin',
  'deviceBytesPerSec',
  'qualityIntervalSec',
]);
/** Keys whose flag or environment value is JSON (an object, or `true` / `false`). */
const JSON_KEYS = new Set<HubConfigKey>(['deviceRateLimits', 'alerts', 'loopEnabled']);
/** Keys whose value is never echoed in a violation message. */
const SECRET_KEYS = new Set<string>(['adminToken', 'alertWebhookSecret', 'brokerPassword']);

export interface ConfigSources {
  /** Values from command line flags, by config key (strings as typed, or already parsed). */
  flags?: Partial<Record<HubConfigKey, string | number>>;
  /** Environment; only `FEDFLEET_*` variables are read. Default: none (pass `process.env` explicitly). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Path of a JSON config file (`--config`); when absent, `env.FEDFLEET_CONFIG` is used. */
  configFile?: string;
}

export interface ConfigViolation {
  key: string;
  /** Where the offending value came from: `flag --http-port`, `env FEDFLEET_HTTP_PORT`, `file x.json`, `default`. */
  source: string;
  message: string;
}

/**
 * Merges every source, validates the result once and returns it frozen. `dataDir` is resolved against the
 * current directory. Throws {@link HubError} `HUB_ERR_CONFIG_INVALID` listing every violation in `details`.
 */
export function loadConfig(sources: ConfigSources = {}): HubConfig {
  const env = sources.env ?? {};
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG };
  const origin: Record<string, string> = Object.fromEntries(CONFIG_KEYS.map((key) => [key, 'default']));
  const violations: ConfigViolation[] = [];

  const configFile = sources.configFile ?? env[CONFIG_FILE_ENV];
  if (configFile) {
    const fileValues = readConfigFile(configFile, violations);
    for (const [key, value] of Object.entries(fileValues)) {
      merged[key] = value;
      origin[key] = `file ${configFile}`;
    }
  }
  for (const key of CONFIG_KEYS) {
    const raw = env[CONFIG_SOURCES[key].env];
    if (raw === undefined || raw === '') continue;
    merged[key] = coerce(key, raw);
    origin[key] = `env ${CONFIG_SOURCES[key].env}`;
  }
  for (const key of CONFIG_KEYS) {
    const raw = sources.flags?.[key];
    if (raw === undefined) continue;
    merged[key] = coerce(key, raw);
    origin[key] = `flag ${CONFIG_SOURCES[key].flag}`;
  }
  return validate(merged, origin, violations);
}

/** Defaults plus `overrides`, validated and frozen — for tests and embedding (reads no environment). */
export function createConfig(overrides: Partial<Static<typeof HubConfigSchema>> = {}): HubConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG, ...overrides };
  const origin = Object.fromEntries(Object.keys(merged).map((key) => [key, key in overrides ? 'option' : 'default']));
  return validate(merged, origin, []);
}

function validate(merged: Record<string, unknown>, origin: Record<string, string>, violations: ConfigViolation[]): HubConfig {
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  violations.push(...schemaViolations(merged, origin), ...externalBrokerViolations(merged, origin));
  if (violations.length > 0) {
    const lines = violations.map((v) => `  ${v.key} (${v.source}): ${v.message}`);
    throw new HubError('HUB_ERR_CONFIG_INVALID', {
      message: `invalid configuration, ${violations.length} problem${violations.length === 1 ? '' : 's'}:\n${lines.join('\n')}`,
      details: violations,
    });
  }
  const config = { ...merged, dataDir: resolve(String(merged.dataDir)) } as Static<typeof HubConfigSchema>;
  return Object.freeze(config);
}

/** An external broker refuses anonymous clients (DESIGN section 9), and the hub administers its dynamic security. */
function externalBrokerViolations(value: Record<string, unknown>, origin: Record<string, string>): ConfigViolation[] {
  if (value.broker === undefined || value.broker === 'embedded') return [];
  return (['brokerUsername', 'brokerPassword'] as const)
    .filter((key) => value[key] === undefined)
    .map((key) => ({ key, source: origin[key] ?? 'default', message: `required when broker is ${String(value.broker)}` }));
}

function readConfigFile(path: string, violations: ConfigViolation[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    violations.push({ key: '--config', source: `file ${path}`, message: `cannot read: ${(error as Error).message}` });
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    violations.push({ key: '--config', source: `file ${path}`, message: `not JSON: ${(error as Error).message}` });
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    violations.push({ key: '--config', source: `file ${path}`, message: 'must contain one JSON object' });
    return {};
  }
  return parsed as Record<string, unknown>;
}

/** Strings from flags and the environment become numbers for numeric keys when they look like numbers. */
function coerce(key: HubConfigKey, raw: string | number): unknown {
  if (typeof raw === 'string' && JSON_KEYS.has(key)) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw; // the schema reports it as not an object
    }
  }
  if (typeof raw !== 'string' || !NUMERIC_KEYS.has(key)) return raw;
  const trimmed = raw.trim();
  return /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed) ? Number(trimmed) : raw;
}

function schemaViolations(value: Record<string, unknown>, origin: Record<string, string>): ConfigViolation[] {
  const byKey = new Map<string, ConfigViolation>();
  for (const error of Value.Errors(HubConfigSchema, value)) {
    if (error.keyword === 'boolean') continue; // the additionalProperties error below says it better
    if (error.keyword === 'additionalProperties') {
      const names = (error.params as { additionalProperties?: string[] }).additionalProperties ?? [];
      for (const name of names) {
        byKey.set(name, { key: name, source: origin[name] ?? 'file', message: `unknown configuration key (known: ${CONFIG_KEYS.join(', ')})` });
      }
      continue;
    }
    const key = error.instancePath.split('/')[1] ?? '';
    const shown = SECRET_KEYS.has(key) ? '' : `, got ${JSON.stringify(value[key])}`; // never echo a secret
    const message = key === 'logLevel' ? `must be one of ${LOG_LEVELS.join(', ')}` : `${error.message}${shown}`;
    // One line per key: a union reports one error per branch, the first message is enough.
    if (!byKey.has(key)) byKey.set(key, { key, source: origin[key] ?? 'default', message });
  }
  return [...byKey.values()];
}
