/**
 * The hub the MQTT fuzzer attacks over real TCP, and the invariants checked after every fuzz connection:
 *
 * - the hub answers HTTP;
 * - a well-behaved device (mqtt.js, enrolled) logs in, publishes a status that is retained, and receives a command;
 * - the victim devices are untouched: the connected one keeps its session (same session id, no message it did not
 *   ask for) and its retained status; the offline one keeps its persistent session's subscriptions;
 * - aedes' live clients and the hub's sessions are back to what they were before the connection, and what it holds
 *   for the fuzzer's persistent session stays within MAX_OUTGOING_PER_CLIENT;
 * - the only retained messages are valid statuses, each on its own device's topic;
 * - no uncaught exception, no unhandled rejection, no error logged by the hub.
 *
 * Time is a manual clock the fuzzer advances: rate limits refill and connect timeouts fire when it says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Aedes, Client, PublishPacket } from 'aedes';
import { decodeEnvelope, DeviceState, deviceTopic, isValidDeviceId } from '@fedfleet/proto';
import { buildHub, type Hub } from '../../hub/src/build-hub.js';
import type { AedesBroker } from '../../hub/src/broker/aedes-broker.js';
import { MAX_OUTGOING_PER_CLIENT } from '../../hub/src/broker/outgoing-queue-bound.js';
import { createManualClock, type ManualClock } from '../../hub/src/clock.js';
import { createConfig } from '../../hub/src/config.js';
import type { EnrollResponse } from '../../hub/src/fleet/schemas.js';
import { createLogger } from '../../hub/src/logger.js';
import { TEST_PROFILE, statusPayload } from '../../hub/test/helpers/devices.js';
import { TEST_ADMIN_TOKEN } from '../../hub/test/helpers/test-hub.js';

/** Smaller than the default so the fuzzer reaches the oversize paths with packets of tens of kilobytes. */
export const FUZZ_MAX_PAYLOAD_BYTES = 64 * 1024;
const CONNECT_TIMEOUT_SEC = 10;

export interface Device {
  deviceId: string;
  password: string;
}

export interface MqttFuzzHub {
  hub: Hub;
  clock: ManualClock;
  httpUrl: string;
  mqttPort: number;
  /** The fuzzer's own device: fuzz connections log in with its credentials. */
  fuzzer: Device;
  /** Connected all along (mqtt.js, persistent session); nothing a fuzz connection does may reach it. */
  victim: Device;
  /** Offline with a persistent session (subscribed to its cmd). */
  sleeper: Device;
  /** Logs in afresh after every fuzz connection. */
  probe: Device;
  /** Opens a TCP connection to the MQTT port; everything it receives is collected. */
  openRaw(): Promise<RawSocket>;
  /** Throws (with every violation) unless all invariants hold; `label` names the case in the message. */
  checkInvariants(label: string): Promise<void>;
  close(): Promise<void>;
}

export interface RawSocket {
  socket: Socket;
  received(): Buffer;
  isClosed(): boolean;
  /** Resolves with what arrived once `bytes` have, the socket closed, or `idleMs` passed without a byte. */
  waitFor(bytes: number, idleMs: number): Promise<Buffer>;
  /** Resolves once the socket closed, or `idleMs` passed without a byte (whichever first). */
  settle(idleMs: number): Promise<void>;
}

function rawSocket(port: number): Promise<RawSocket> {
  const socket = tcpConnect(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  let closed = false;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  socket.on('data', (chunk: Buffer) => (chunks.push(chunk), notify()));
  socket.once('close', () => ((closed = true), notify()));
  const received = () => Buffer.concat(chunks);
  const waitFor = (bytes: number, idleMs: number) =>
    new Promise<Buffer>((resolve) => {
      let timer: NodeJS.Timeout;
      const check = () => {
        if (closed || received().length >= bytes) return done();
        clearTimeout(timer);
        timer = setTimeout(done, idleMs);
      };
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
        resolve(received());
      };
      listeners.add(check);
      check();
    });
  return new Promise((resolve, reject) => {
    socket.once('connect', () =>
      resolve({ socket, received, isClosed: () => closed, waitFor, settle: (idleMs) => waitFor(Infinity, idleMs).then(() => undefined) }),
    );
    socket.once('error', reject);
  });
}

async function until<T>(check: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The embedded broker's aedes internals the invariants read (aedes does not declare `clients`). */
interface AedesInternals {
  clients: Record<string, Client | undefined>;
  connectedClients: number;
  persistence: {
    createRetainedStream(pattern: string): AsyncIterable<PublishPacket>;
    subscriptionsByClient(client: { id: string }): Promise<{ topic: string; qos: number }[]>;
    outgoingStream(client: { id: string }): AsyncIterable<unknown>;
  };
}

export async function startMqttFuzzHub(): Promise<MqttFuzzHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fedfleet-mqtt-fuzz-'));
  const clock = createManualClock();
  const config = createConfig({
    dataDir, httpPort: 0, mqttPort: 0, host: '127.0.0.1', logLevel: 'error', adminToken: TEST_ADMIN_TOKEN,
    maxPayloadBytes: FUZZ_MAX_PAYLOAD_BYTES, mqttConnectTimeoutSec: CONNECT_TIMEOUT_SEC,
    // The fuzzer fails thousands of logins from one address; at the default it would soon meet only CONNACK 3.
    mqttLoginFailuresPerMin: 1_000_000,
  });
  const errorLogs: string[] = [];
  const logger = createLogger('error', { write: (line: string) => void errorLogs.push(line.trim()) });
  const hub = buildHub(config, { clock, logger });
  const { httpUrl, mqttUrl } = await hub.listen();
  const mqttPort = Number(new URL(mqttUrl).port);
  const broker = hub.broker as AedesBroker;
  const aedes = broker.aedes as Aedes & AedesInternals;

  const processErrors: string[] = [];
  const onUncaught = (error: unknown) => void processErrors.push(`uncaught exception: ${(error as Error)?.stack ?? String(error)}`);
  const onRejection = (error: unknown) => void processErrors.push(`unhandled rejection: ${(error as Error)?.stack ?? String(error)}`);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);

  const api = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const response = await hub.inject({
      method: method as 'GET', url, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, ...(body === undefined ? {} : { payload: body as object }),
    });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json() as T;
  };
  const token = await api<{ token: string }>('POST', '/v1/enrollment-tokens', { ttlSec: 86_400, maxUses: 10 });
  const enroll = async (name: string): Promise<Device> => {
    const response = await hub.inject({ method: 'POST', url: '/v1/enroll', payload: { token: token.token, name, profile: TEST_PROFILE } });
    const body = response.json() as EnrollResponse;
    return { deviceId: body.deviceId, password: body.password };
  };
  const [fuzzer, victim, sleeper, probe] = [await enroll('fuzzer'), await enroll('victim'), await enroll('sleeper'), await enroll('probe')];

  const connectDevice = (device: Device, clean: boolean) =>
    mqtt.connectAsync(mqttUrl, {
      clientId: device.deviceId, username: device.deviceId, password: device.password, clean, reconnectPeriod: 0, connectTimeout: 5000, keepalive: 0,
    });
  const publishStatus = (client: MqttClient, device: Device, agentVersion: string) =>
    client.publishAsync(
      deviceTopic(device.deviceId, 'status'),
      Buffer.from(statusPayload(device.deviceId, { state: DeviceState.DEVICE_STATE_ONLINE, agentVersion })),
      { qos: 1, retain: true },
    );

  // The sleeper leaves a persistent session behind: a subscription the fuzzer's refused logins must not touch.
  const sleeperClient = await connectDevice(sleeper, false);
  await sleeperClient.subscribeAsync(deviceTopic(sleeper.deviceId, 'cmd'), { qos: 1 });
  await publishStatus(sleeperClient, sleeper, 'sleeper/1');
  await sleeperClient.endAsync();
  const sleeperSubscriptions = JSON.stringify(await aedes.persistence.subscriptionsByClient({ id: sleeper.deviceId }));

  const victimClient = await connectDevice(victim, false);
  const victimEvents: string[] = [];
  victimClient.on('close', () => victimEvents.push('connection closed'));
  victimClient.on('message', (topic) => victimEvents.push(`unexpected message on ${topic}`));
  await victimClient.subscribeAsync(deviceTopic(victim.deviceId, 'cmd'), { qos: 1 });
  await publishStatus(victimClient, victim, 'victim/1');
  const victimSession = await until(() => broker.currentSession(victim.deviceId), 5000, 'the victim session');
  const retainedOf = async (deviceId: string) => Buffer.from((await broker.retainedStatus(deviceId)) ?? new Uint8Array()).toString('hex');
  const victimRetained = await until(() => retainedOf(victim.deviceId), 5000, 'the victim status');
  const sleeperRetained = await retainedOf(sleeper.deviceId);

  const liveClients = () => Object.values(aedes.clients).filter((c) => c !== undefined).length;
  const baseline = { clients: liveClients(), connected: aedes.connectedClients, sessions: broker.sessionCount() };
  const devices = new Set([fuzzer, victim, sleeper, probe].map((d) => d.deviceId));
  let probes = 0;

  async function retainedViolations(): Promise<string[]> {
    const violations: string[] = [];
    for await (const packet of aedes.persistence.createRetainedStream('#')) {
      const match = /^ff\/v1\/dev\/([^/]+)\/status$/.exec(packet.topic);
      const deviceId = match?.[1];
      if (!deviceId || !isValidDeviceId(deviceId) || !devices.has(deviceId)) {
        violations.push(`retained message on ${JSON.stringify(packet.topic.slice(0, 120))}`);
        continue;
      }
      try {
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        const envelope = decodeEnvelope(payload, { deviceId, topicKind: 'status' });
        if (envelope.body !== 'status') violations.push(`retained ${envelope.body} on ${packet.topic}`);
      } catch (error) {
        violations.push(`retained undecodable status on ${packet.topic}: ${(error as Error).message}`);
      }
    }
    return violations;
  }

  async function probeDevice(): Promise<void> {
    const agentVersion = `probe/${++probes}`;
    // A second of hub time per probe: the probe's status budget (2 a second) never runs out, whatever the caller does.
    clock.advance(1000);
    const client = await connectDevice(probe, true);
    try {
      await client.subscribeAsync(deviceTopic(probe.deviceId, 'cmd'), { qos: 1 });
      const received = new Promise<string>((resolve) => client.once('message', (topic, payload) => resolve(`${topic} ${payload.length}`)));
      await publishStatus(client, probe, agentVersion);
      const retained = decodeEnvelope(Buffer.from(await until(() => broker.retainedStatus(probe.deviceId), 2000, 'the probe status')), { deviceId: probe.deviceId });
      if (retained.status?.agentVersion !== agentVersion) throw new Error(`probe status not retained: ${retained.status?.agentVersion}`);
      await broker.sendToDevice(probe.deviceId, 'cmd', { command: { commandId: `probe-${probes}`, config: { heartbeatSec: 5 } } });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((_, reject) => (timer = setTimeout(() => reject(new Error('probe got no command')), 5000)));
      await Promise.race([received, timeout]).finally(() => clearTimeout(timer));
    } finally {
      await client.endAsync();
    }
  }

  return {
    hub,
    clock,
    httpUrl,
    mqttPort,
    fuzzer,
    victim,
    sleeper,
    probe,
    openRaw: () => rawSocket(mqttPort),
    async checkInvariants(label) {
      const violations: string[] = [];
      const attempt = async (what: string, fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (error) {
          violations.push(`${what}: ${(error as Error).message}`);
        }
      };
      await attempt('connections back to the baseline', () =>
        until(() => liveClients() === baseline.clients && aedes.connectedClients === baseline.connected && broker.sessionCount() === baseline.sessions, 5000,
          `clients ${liveClients()}/${baseline.clients}, connected ${aedes.connectedClients}/${baseline.connected}, sessions ${broker.sessionCount()}/${baseline.sessions}`));
      await attempt('HTTP', async () => {
        const response = await fetch(`${httpUrl}/healthz`);
        if (response.status !== 200) throw new Error(`GET /healthz answered ${response.status}`);
      });
      await attempt('probe device', probeDevice);
      if (!victimClient.connected) violations.push('victim: disconnected');
      if (broker.currentSession(victim.deviceId) !== victimSession) violations.push(`victim: session ${victimSession} became ${broker.currentSession(victim.deviceId)}`);
      if (victimEvents.length > 0) violations.push(`victim: ${victimEvents.splice(0).join(', ')}`);
      if ((await retainedOf(victim.deviceId)) !== victimRetained) violations.push('victim: retained status changed');
      if ((await retainedOf(sleeper.deviceId)) !== sleeperRetained) violations.push('sleeper: retained status changed');
      const subscriptions = JSON.stringify(await aedes.persistence.subscriptionsByClient({ id: sleeper.deviceId }));
      if (subscriptions !== sleeperSubscriptions) violations.push(`sleeper: subscriptions ${sleeperSubscriptions} became ${subscriptions}`);
      let queued = 0;
      for await (const _ of aedes.persistence.outgoingStream({ id: fuzzer.deviceId })) queued++;
      if (queued > MAX_OUTGOING_PER_CLIENT) violations.push(`fuzzer: ${queued} messages held for its session`);
      violations.push(...(await retainedViolations()));
      violations.push(...processErrors.splice(0));
      violations.push(...errorLogs.splice(0).map((line) => `hub error log: ${line.slice(0, 2000)}`));
      if (violations.length > 0) throw new Error(`${label}:\n  ${violations.join('\n  ')}`);
    },
    async close() {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onRejection);
      await victimClient.endAsync(true);
      await hub.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
