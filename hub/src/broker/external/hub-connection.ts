/**
 * The hub's one MQTT 5 connection to an external broker: a stable client id with Clean Start 0 and a session expiry,
 * so the broker keeps the hub's subscriptions and queues its QoS 1 messages across a reconnect [MQTT-3.1.2-4,
 * MQTT-3.1.2-11]; reconnects with exponential backoff (mqtt.js' own timer has a fixed period); on every connect runs
 * `onConnect` (subscribe, re-sync). The first connect decides how the hub starts: refused credentials or a failed
 * setup fail the start, an unreachable broker does not (the hub keeps trying and provisions what it owes when the
 * broker returns).
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock, TimerHandle } from '../../clock.js';
import { HubError } from '../../errors.js';
import type { HubLogger } from '../../logger.js';

export interface HubConnectionOptions {
  url: string;
  username: string;
  password: string;
  clientId: string;
  log: HubLogger;
  /** Drives the reconnect backoff. */
  clock: Clock;
  /** Runs at every (re)connect; a rejection is logged and retried after the next backoff delay. */
  onConnect(client: MqttClient): Promise<void>;
  /** First reconnect delay, doubled per failed attempt up to `reconnectMaxMs`. Default 500 ms. */
  reconnectMinMs?: number;
  /** Default 30 s. */
  reconnectMaxMs?: number;
  /** How long the broker keeps the hub's session while it is away, in seconds. Default 1 hour. */
  sessionExpirySec?: number;
  /** Largest packet the hub accepts (config maxPayloadBytes plus headers) [MQTT-3.1.2-24]. */
  maximumPacketBytes: number;
}

export interface HubConnection {
  readonly client: MqttClient;
  /** Resolves after the first successful `onConnect`, or once the broker proved unreachable (the hub runs on). */
  started(): Promise<void>;
  connected(): boolean;
  close(): Promise<void>;
}

/** CONNACK reason codes that mean "these credentials are not welcome" (MQTT 5 table 3-1, and 3.1.1's 4 and 5). */
const REFUSED_CODES = new Set([4, 5, 134, 135, 138]);

export function createHubConnection(options: HubConnectionOptions): HubConnection {
  const { log, clock } = options;
  const minMs = options.reconnectMinMs ?? 500;
  const maxMs = options.reconnectMaxMs ?? 30_000;
  let delayMs = minMs;
  let timer: TimerHandle | undefined;
  let closing = false;
  let everConnected = false;
  let settleStart: { resolve(): void; reject(error: Error): void } | undefined;
  const start = new Promise<void>((resolve, reject) => (settleStart = { resolve, reject }));
  const settle = (error?: Error) => {
    const waiter = settleStart;
    settleStart = undefined;
    if (error) waiter?.reject(error);
    else waiter?.resolve();
  };

  const clientOptions: IClientOptions = {
    clientId: options.clientId,
    username: options.username,
    password: options.password,
    protocolVersion: 5,
    clean: false,
    reconnectPeriod: 0, // reconnects are scheduled below, with backoff
    resubscribe: false, // onConnect subscribes itself, every time
    connectTimeout: 10_000,
    properties: { sessionExpiryInterval: options.sessionExpirySec ?? 3600, maximumPacketSize: options.maximumPacketBytes },
  };
  const client = mqtt.connect(options.url, clientOptions);

  function scheduleReconnect(): void {
    if (closing || timer) return;
    const waitMs = delayMs;
    delayMs = Math.min(maxMs, delayMs * 2);
    log.debug({ waitMs }, 'reconnecting to the external broker');
    timer = clock.setTimeout(() => {
      timer = undefined;
      if (closing || client.connected) return;
      // Keep the stores: QoS 1 messages in flight are re-sent on the resumed session [MQTT-4.4.0-1].
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, waitMs);
  }

  let generation = 0;
  client.on('connect', (connack) => {
    delayMs = minMs;
    everConnected = true;
    const connectedAs = ++generation;
    log.info({ url: options.url, sessionPresent: connack.sessionPresent }, 'connected to the external broker');
    options.onConnect(client).then(
      () => settle(),
      (error: unknown) => {
        // The setup lost its connection (Mosquitto drops a client whose roles change): the next connect retries.
        if (connectedAs !== generation || closing || !client.connected) return;
        log.error({ err: error }, 'external broker setup failed; retrying after the next reconnect');
        settle(error instanceof Error ? error : new Error(String(error))); // a first start fails with it
        // Drop the connection for a fresh attempt (not `end()`, which closes the stores of messages in flight).
        client.stream.destroy();
      },
    );
  });
  client.on('error', (error: Error & { code?: unknown }) => {
    if (typeof error.code === 'number' && REFUSED_CODES.has(error.code)) {
      log.error({ url: options.url, code: error.code, err: error }, 'the external broker refused the hub');
      if (!everConnected) {
        settle(new HubError('HUB_ERR_BROKER_REFUSED', { message: `${options.url} refused the hub: ${error.message}` }));
      }
      return;
    }
    log.warn({ url: options.url, err: error }, 'external broker connection error');
  });
  client.on('close', () => {
    if (closing) return;
    if (!everConnected && settleStart) {
      log.warn({ url: options.url }, 'the external broker is unreachable; the hub runs on and keeps trying');
      settle();
    }
    scheduleReconnect();
  });

  return {
    client,
    started: () => start,
    connected: () => client.connected,
    async close() {
      closing = true;
      if (timer) clock.clearTimer(timer);
      settle();
      await client.endAsync(true);
    },
  };
}
