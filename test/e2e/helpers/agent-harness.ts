/**
 * The real agent (`Agent` with a `FileCredentialStore` and `SystemTelemetry`) in this process, against a real hub:
 * helpers to start it, watch the hub's events and reach the hub's aedes instance for bytes the hub never sends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes, type PublishPacket } from 'aedes';
import { onTestFinished, vi } from 'vitest';
import { Agent, FileCredentialStore, SystemTelemetry, detectProfile, type AgentEvents, type AgentOptions } from '@fedfleet/agent';
import type { CommandResultProps } from '@fedfleet/proto';
import type { HubEventMap, HubEventName } from '../../../hub/src/events/hub-events.js';
import { createToken, waitFor } from '../../../hub/test/helpers/devices.js';
import type { TestHub } from '../../../hub/test/helpers/test-hub.js';

export { waitFor };

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface StartAgentOptions extends Partial<Omit<AgentOptions, 'credentials' | 'telemetry' | 'profile'>> {
  /** Agent data dir (credentials.json); default a new temp dir. */
  dataDir?: string;
  /** Enrollment token; default a fresh one. `null`: start without one (the credentials must be saved already). */
  token?: string | null;
  name?: string;
  labels?: Record<string, string>;
}

export interface StartedAgent {
  agent: Agent;
  dataDir: string;
  store: FileCredentialStore;
}

/**
 * Starts an agent with 1 s heartbeats and a fast backoff (tens of ms), stopped when the test ends. Resolves once it
 * is online (its first status was acknowledged by the broker).
 */
export async function startAgent(testHub: TestHub, options: StartAgentOptions = {}): Promise<StartedAgent> {
  const { dataDir = tempDir('fedfleet-agent-'), token, name = 'e2e-agent', labels, ...agentOptions } = options;
  const store = new FileCredentialStore(dataDir);
  const enrollToken = token === null ? undefined : (token ?? (await createToken(testHub)).token);
  const agent = new Agent({
    credentials: store,
    ...(enrollToken ? { enrollment: { hubUrl: testHub.httpUrl, token: enrollToken, name, ...(labels ? { labels } : {}) } } : {}),
    profile: await detectProfile(dataDir),
    telemetry: new SystemTelemetry({ diskPath: dataDir }),
    heartbeatSec: 1,
    backoff: { initialMs: 20, maxMs: 200 },
    ...agentOptions,
  });
  onTestFinished(() => agent.stop('test finished'));
  const online = nextAgentEvent(agent, 'online');
  await agent.start();
  await online;
  return { agent, dataDir, store };
}

/** The next `name` event of the agent (rejects after `timeoutMs`). */
export async function nextAgentEvent<K extends keyof AgentEvents>(agent: Agent, name: K, timeoutMs = 10_000): Promise<AgentEvents[K]> {
  return (await once(agent as never, name, { signal: AbortSignal.timeout(timeoutMs) })) as AgentEvents[K];
}

export interface RecordedEvent<K extends HubEventName = HubEventName> {
  name: K;
  payload: HubEventMap[K];
}

export interface HubEventLog {
  readonly events: readonly RecordedEvent[];
  /** Position to wait from (events before it are ignored by {@link next}). */
  mark(): number;
  /** Waits for the first `name` event at or after `from` whose payload contains `match`. */
  next<K extends HubEventName>(name: K, match?: Partial<HubEventMap[K]>, from?: number, timeoutMs?: number): Promise<HubEventMap[K]>;
  count<K extends HubEventName>(name: K, match?: Partial<HubEventMap[K]>): number;
}

/** CommandResults the hub receives on device `reply` topics from now on, in order. */
export function recordReplies(testHub: TestHub): CommandResultProps[] {
  const replies: CommandResultProps[] = [];
  onTestFinished(testHub.hub.broker.router.on('reply', (message) => void (message.envelope.commandResult && replies.push(message.envelope.commandResult))));
  return replies;
}

/** Records every hub event from now on. */
export function recordHubEvents(testHub: TestHub): HubEventLog {
  const events: RecordedEvent[] = [];
  onTestFinished(testHub.hub.events.onAny((name, payload) => void events.push({ name, payload } as RecordedEvent)));
  const matches = (event: RecordedEvent, name: string, match: object) =>
    event.name === name && Object.entries(match).every(([key, value]) => (event.payload as Record<string, unknown>)[key] === value);
  return {
    events,
    mark: () => events.length,
    async next(name, match = {}, from = 0, timeoutMs = 10_000) {
      const found = await waitFor(() => events.slice(from).find((event) => matches(event, name, match)), timeoutMs, `hub event ${name} ${JSON.stringify(match)}`);
      return found.payload as never;
    },
    count: (name, match = {}) => events.filter((event) => matches(event, name, match)).length,
  };
}

/**
 * Captures the aedes instance of the next hub built in this test, for publishing bytes the hub's own API refuses to
 * produce (malformed protobuf, oversize payloads). Call before `startTestHub()`.
 */
export function captureAedes(): { publish(topic: string, payload: Buffer): Promise<void> } {
  const original = Aedes.createBroker.bind(Aedes);
  let captured: Aedes | undefined;
  const spy = vi.spyOn(Aedes, 'createBroker').mockImplementation(async (options) => (captured = await original(options)));
  onTestFinished(() => spy.mockRestore());
  return {
    publish(topic, payload) {
      const aedes = captured;
      if (!aedes) throw new Error('no hub was built since captureAedes()');
      const packet = { cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false } as PublishPacket;
      return new Promise((resolve, reject) => aedes.publish(packet, (error) => (error ? reject(error) : resolve())));
    },
  };
}
