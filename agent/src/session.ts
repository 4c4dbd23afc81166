import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  DeviceState, decodeEnvelope, deviceTopic, clampDeviceStrings, encodeEnvelope, isProtoError,
  type DecodedEnvelope, type DeviceTopicKind, type EnvelopeProps, type StatusProps,
} from '@fedfleet/proto';
import { Backoff, type BackoffOptions } from './backoff.js';
import type { DeviceCredentials } from './credentials.js';
import { AgentError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';

export interface SessionOptions {
  credentials: DeviceCredentials;
  /** Status published (retained) on every connect; the last will is the same with state OFFLINE. */
  status: () => StatusProps;
  /** MQTT keepalive in seconds; the broker drops a silent client after 1.5× this [MQTT-3.1.2-24]. Default 15. */
  keepaliveSec?: number;
  backoff?: BackoffOptions;
  maxPayloadBytes?: number;
  logger?: Logger;
  /** Injected in tests. */
  connect?: (url: string, options: IClientOptions) => MqttClient;
}

export interface SessionEvents {
  connected: [{ sessionPresent: boolean }];
  disconnected: [{ reason: string }];
  reconnecting: [{ attempt: number; delayMs: number }];
  message: [{ kind: DeviceTopicKind; envelope: DecodedEnvelope }];
  rejected: [{ code: string; kind: DeviceTopicKind }];
  fatal: [AgentError];
}

// MQTT 3.1.1 CONNACK 4/5 and MQTT 5 reason codes 134/135 mean the credentials are not (or no longer) valid.
const AUTH_FAILURE_CODES = new Set([4, 5, 134, 135]);

/** How long a graceful stop waits for the OFFLINE status and the DISCONNECT before it drops the connection. */
const STOP_GRACE_MS = 5_000;

/** Settles with `promise`, or with 'timeout' after `ms`, or with 'closed' when the connection closes first. */
function untilSettledOrGone<T>(promise: Promise<T>, client: MqttClient, ms: number): Promise<T | 'timeout' | 'closed'> {
  let timer: NodeJS.Timeout | undefined;
  let onClose: (() => void) | undefined;
  const gone = new Promise<'timeout' | 'closed'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
    onClose = () => resolve('closed');
    client.once('close', onClose);
  });
  return Promise.race([promise, gone]).finally(() => {
    clearTimeout(timer);
    client.off('close', onClose!);
  });
}

/**
 * The device's MQTT session: connects with a last will, publishes its retained status on every (re)connect,
 * subscribes to its own `cmd` and `chunk`, and reconnects with exponential backoff and jitter. mqtt.js' own fixed
 * reconnect period is disabled so that a fleet does not reconnect in lockstep after a broker restart.
 */
export class DeviceSession extends EventEmitter<SessionEvents> {
  private client: MqttClient | undefined;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Why the session ended on purpose (reported with the `disconnected` event). */
  private stopReason: string | undefined;
  private connectedOnce = false;

  constructor(private readonly options: SessionOptions) {
    super();
    this.backoff = new Backoff(options.backoff);
    this.log = options.logger ?? silentLogger;
  }

  get deviceId(): string {
    return this.options.credentials.deviceId;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  topic(kind: DeviceTopicKind): string {
    return deviceTopic(this.deviceId, kind);
  }

  start(): void {
    const { credentials } = this.options;
    const will = this.encode({ status: { ...this.options.status(), state: DeviceState.DEVICE_STATE_OFFLINE, reason: 'last will' } });
    const connect = this.options.connect ?? mqtt.connect;
    this.client = connect(credentials.mqttUrl, {
      clientId: credentials.clientId,
      username: credentials.username,
      password: credentials.password,
      clean: false, // commands queued by the broker while we were away are delivered on return
      keepalive: this.options.keepaliveSec ?? 15,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      protocolVersion: 4,
      will: { topic: this.topic('status'), payload: Buffer.from(will), qos: 1, retain: true },
    });
    this.client.on('connect', (connack) => this.onConnect(connack.sessionPresent));
    this.client.on('message', (topic, payload) => this.onMessage(topic, payload));
    this.client.on('close', () => this.onClose());
    this.client.on('error', (error) => this.onError(error));
  }

  /** Publishes one envelope on a device topic of this device. Resolves when the broker acknowledged QoS 1. */
  async publish(kind: DeviceTopicKind, props: Omit<EnvelopeProps, 'deviceId'>, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const client = this.client;
    if (!client) throw new AgentError('AGENT_ERR_HUB_UNREACHABLE', 'session not started');
    const payload = Buffer.from(this.encode(props));
    await client.publishAsync(this.topic(kind), payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false });
  }

  /** Re-publishes the retained status (e.g. when busy or the active model changes). */
  async publishStatus(): Promise<void> {
    if (!this.connected) return;
    await this.publish('status', { status: { ...this.options.status(), state: DeviceState.DEVICE_STATE_ONLINE } }, { retain: true });
  }

  /**
   * Graceful stop: publish OFFLINE (retained) so the hub need not wait for a timeout, then DISCONNECT. Bounded: when
   * the broker is unreachable, or does not answer within a few seconds, the connection is dropped instead, so a
   * stopping agent never hangs on messages it could not deliver.
   */
  async stop(reason = 'shutdown'): Promise<void> {
    this.stopped = true;
    this.stopReason ??= 'stopped';
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      const offline = this.publish('status', { status: { ...this.options.status(), state: DeviceState.DEVICE_STATE_OFFLINE, reason } }, { retain: true });
      const outcome = await untilSettledOrGone(offline, client, STOP_GRACE_MS).catch((error: Error) => error);
      if (outcome !== undefined) this.log.warn({ err: typeof outcome === 'string' ? outcome : outcome.message }, 'could not publish offline status');
    }
    // mqtt.js sends a clean DISCONNECT only once every QoS 1 message is acknowledged, and without a connection that
    // wait never ends: give the broker a moment to acknowledge, then disconnect cleanly or drop the connection.
    if (client.connected && Object.keys(client.outgoing).length > 0) {
      const drained = new Promise<void>((resolve) => client.once('outgoingEmpty', resolve));
      await untilSettledOrGone(drained, client, STOP_GRACE_MS);
    }
    const clean = client.connected && Object.keys(client.outgoing).length === 0;
    await client.endAsync(!clean);
  }

  /**
   * Fault injection: behaves like the process dying — the TCP connection drops without a DISCONNECT (so the broker
   * publishes the last will) and nothing reconnects. Start a new session to come back.
   */
  crash(): void {
    this.stopped = true;
    this.stopReason ??= 'crashed';
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    if (!client) return;
    client.stream?.destroy();
    client.end(true);
  }

  private encode(props: Omit<EnvelopeProps, 'deviceId'>): Uint8Array {
    const options = this.options.maxPayloadBytes === undefined ? {} : { maxBytes: this.options.maxPayloadBytes };
    // The hub refuses longer text (PROTO_ERR_STRING_TOO_LONG): a long error message as a reason is cut, not lost.
    return encodeEnvelope(clampDeviceStrings({ ...props, deviceId: this.deviceId }), options);
  }

  private onConnect(sessionPresent: boolean): void {
    this.backoff.reset();
    this.connectedOnce = true;
    const client = this.client!;
    const subscribe = sessionPresent
      ? Promise.resolve()
      : client.subscribeAsync([this.topic('cmd'), this.topic('chunk')], { qos: 1 }).then((grants) => {
          const refused = grants.filter((g) => g.qos === 128);
          if (refused.length > 0) this.log.error({ topics: refused.map((g) => g.topic) }, 'subscription refused by broker');
        });
    subscribe
      .then(() => this.publishStatus())
      .then(() => this.emit('connected', { sessionPresent }))
      .catch((error: Error) => this.log.warn({ err: error.message }, 'post-connect setup failed'));
  }

  private onMessage(topic: string, payload: Buffer): void {
    const kind = topic.slice(topic.lastIndexOf('/') + 1) as DeviceTopicKind;
    // Only what the device subscribed to is its own: a broker that delivers another device's topic (or any other)
    // does not get it acted on because the envelope names this device.
    if (topic !== this.topic('cmd') && topic !== this.topic('chunk')) {
      this.log.warn({ topic: topic.slice(0, 200), bytes: payload.byteLength }, 'dropped message on a topic not subscribed to');
      this.emit('rejected', { code: 'PROTO_ERR_BAD_TOPIC', kind });
      return;
    }
    try {
      const options = this.options.maxPayloadBytes === undefined ? {} : { maxBytes: this.options.maxPayloadBytes };
      // The hub addresses every envelope to the device it publishes to; anything else on our topics is misplaced.
      const envelope = decodeEnvelope(payload, { ...options, topicKind: kind, deviceId: this.deviceId });
      this.emit('message', { kind, envelope });
    } catch (error) {
      const code = isProtoError(error) ? error.code : 'PROTO_ERR_MALFORMED';
      this.log.warn({ topic, code, bytes: payload.byteLength }, 'dropped malformed message');
      this.emit('rejected', { code, kind });
    }
  }

  private onError(error: Error & { code?: unknown }): void {
    if (typeof error.code === 'number' && AUTH_FAILURE_CODES.has(error.code)) {
      const fatal = new AgentError('AGENT_ERR_CREDENTIALS_REJECTED', `broker answered ${error.message}`, { cause: error });
      this.log.error({ code: fatal.code, deviceId: this.deviceId }, fatal.message);
      this.stopped = true;
      this.stopReason ??= 'credentials rejected';
      clearTimeout(this.reconnectTimer);
      this.client?.end(true);
      this.emit('fatal', fatal);
      return;
    }
    this.log.warn({ err: error.message }, 'mqtt error');
  }

  private onClose(): void {
    if (this.connectedOnce) this.emit('disconnected', { reason: this.stopReason ?? 'connection lost' });
    this.connectedOnce = false;
    if (this.stopped || this.reconnectTimer) return;
    const delayMs = this.backoff.nextDelayMs();
    this.emit('reconnecting', { attempt: this.backoff.attempts, delayMs });
    this.log.info({ delayMs, attempt: this.backoff.attempts }, 'reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      const client = this.client;
      // Keep the stores: mqtt.js' reconnect() otherwise starts empty ones, losing the QoS 1 messages published while
      // offline (replies, updates) and leaving their promises pending forever.
      if (!this.stopped && client) client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delayMs);
  }
}
