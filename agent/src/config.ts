import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { AgentError } from './errors.js';

/** The agent's configuration, validated once where it enters (flags > environment > defaults), then frozen. */
export const AgentConfigSchema = Type.Object({
  /** Hub base URL, e.g. http://hub.local:8080; needed only to enroll. */
  hubUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Enrollment token; needed only on the first start. */
  token: Type.Optional(Type.String({ minLength: 1 })),
  /** Where credentials (mode 0600), artifacts and the model store live. */
  dataDir: Type.String({ minLength: 1 }),
  /** Device name shown by the hub; default the host name. */
  name: Type.String({ minLength: 1, maxLength: 128 }),
  /** Telemetry period in seconds (the hub declares a device offline after 3 missed). */
  heartbeatSec: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
  /** MQTT keepalive in seconds. */
  keepaliveSec: Type.Integer({ minimum: 5, maximum: 3600 }),
  /** Extra labels requested at enrollment (token labels win). */
  labels: Type.Record(Type.String(), Type.String()),
  /** Local training data: a folder in the fedfleet sample format, or mnist:<partition>:<index>/<devices>. */
  data: Type.Optional(Type.String({ minLength: 1 })),
  /** The on-device model store (agent/docs/agent.md#the-model-store); default `<dataDir>/models`. */
  modelsDir: Type.String({ minLength: 1 }),
  /** A bundle file to install by hand (`--install-bundle`): the agent installs it, prints the self-test and exits. */
  installBundle: Type.Optional(Type.String({ minLength: 1 })),
  /** Port of the local inference endpoint on 127.0.0.1 (agent/docs/agent.md#serving); 0 = any free port. */
  servePort: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** Whether the local inference endpoint runs (`--no-serve` turns it off; telemetry then counts no inferences). */
  serve: Type.Boolean(),
  logLevel: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')]),
});

export type AgentConfig = Readonly<Static<typeof AgentConfigSchema>>;

/** Validates and freezes; every violation is reported in one AGENT_ERR_CONFIG error. */
export function validateAgentConfig(input: unknown): AgentConfig {
  if (!Value.Check(AgentConfigSchema, input)) {
    const problems = [...Value.Errors(AgentConfigSchema, input)].map((e) => `${e.instancePath || '/'} ${e.message}`);
    throw new AgentError('AGENT_ERR_CONFIG', problems.join('; '));
  }
  return Object.freeze(input as AgentConfig);
}

/** `k=v,k2=v2` → record; malformed pairs are a config error. */
export function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  for (const pair of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new AgentError('AGENT_ERR_CONFIG', `label "${pair}" is not key=value`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}
