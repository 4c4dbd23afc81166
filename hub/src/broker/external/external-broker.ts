/**
 * The hub as a client of an external MQTT broker (DESIGN section 8), behind the same {@link Broker} interface as
 * the embedded one. Device traffic arrives through shared subscriptions (`$share/fedfleet/ff/v1/dev/+/{kind}`,
 * [MQTT-4.8.2]) so several hubs split it; statuses through a plain subscription, so every hub sees every device's
 * presence. Everything goes through the same {@link Router} as embedded traffic: the same decoding, size limit,
 * per-device rate limits and msgId de-duplication. The broker's ACL (dynsec-provisioner.ts) guarantees a device
 * publishes only under its own topics, so the device id comes from the topic.
 *
 * Differences from the embedded broker: the broker, not the hub, acknowledges a device's QoS 1 publish, so a
 * message is handled after its PUBACK and the router's msgId de-duplication is what makes a redelivery harmless;
 * sessions are inferred from statuses (status-sessions.ts); the broker's `max_packet_size` bounds packets before
 * the hub sees them.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { MqttClient } from 'mqtt';
import { allDevicesFilter, deviceTopic, encodeEnvelope, isValidDeviceId, parseDeviceTopic, type DeviceTopicKind } from '@fedfleet/proto';
import { HubError } from '../../errors.js';
import { TypedEmitter } from '../../events/typed-emitter.js';
import type { Clock } from '../../clock.js';
import type { HubLogger } from '../../logger.js';
import type { HubMetrics } from '../../metrics/hub-metrics.js';
import type { Broker, BrokerAddress, BrokerEventMap } from '../broker.js';
import { PUBLISH_OVERHEAD_BYTES } from '../connection-guard.js';
import type { Router } from '../router.js';
import { createDynsecClient, DYNSEC_RESPONSE_TOPIC } from './dynsec-client.js';
import { createDynsecProvisioner, SHARE_GROUP } from './dynsec-provisioner.js';
import { createHubConnection, type HubConnection } from './hub-connection.js';
import { createStatusSessions, statusPresence } from './status-sessions.js';

export interface ExternalBrokerOptions {
  router: Router;
  /** `mqtt://host:port` or `mqtts://…` (config `broker`). */
  url: string;
  /** The hub's account, a dynamic-security admin (config `brokerUsername` / `brokerPassword`). */
  username: string;
  password: string;
  /** Stable across restarts of this hub, distinct between hubs. Default: derived from the host name and `dataDir`. */
  clientId?: string;
  dataDir: string;
  /** Ids of enrolled, unrevoked devices (the store, the source of truth for re-sync). */
  activeDeviceIds(): ReadonlySet<string>;
  log: HubLogger;
  metrics: HubMetrics;
  /** Drives reconnect backoff and dynamic-security timeouts. */
  clock: Clock;
  maxPayloadBytes: number;
  /** Reconnect backoff bounds in milliseconds (defaults 500 ms and 30 s). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** How long a dynamic-security command may take, in milliseconds. Default 10 s. */
  dynsecTimeoutMs?: number;
}

export interface ExternalBroker extends Broker {
  provisionDevice(deviceId: string, password: string): Promise<void>;
  /** Whether the hub's connection to the broker is up. */
  brokerConnected(): boolean;
  /** Devices enrolled while the broker was out of reach, provisioned at the next connect. */
  pendingProvisioning(): number;
  /** The latest (re)connection's setup — subscriptions, then the re-sync with the store; rejects if it failed. */
  synced(): Promise<void>;
}

/** Device → hub kinds consumed through the shared subscription, with their QoS (DESIGN section 2). */
const SHARED_KINDS: ReadonlyArray<[DeviceTopicKind, 0 | 1]> = [['reply', 1], ['update', 1], ['fetch', 1], ['telemetry', 0]];

export function defaultHubClientId(dataDir: string): string {
  return `fedfleet-hub-${createHash('sha256').update(`${hostname()}\0${dataDir}`).digest('hex').slice(0, 16)}`;
}

export function createExternalBroker(options: ExternalBrokerOptions): ExternalBroker {
  const { router, log, metrics } = options;
  const events = new TypedEmitter<BrokerEventMap>((error, name) => log.error({ err: error, event: name }, 'broker event listener failed'));
  const sessions = createStatusSessions(events);
  const retained = new Map<string, Uint8Array>();
  const revoked = new Set<string>();
  const url = new URL(options.url);
  const port = Number(url.port || (url.protocol === 'mqtts:' ? 8883 : 1883));
  const address: BrokerAddress = { url: `${url.protocol}//${url.host}`, host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  let connection: HubConnection | undefined;
  let lastSync: Promise<void> = Promise.resolve();
  let closed = false;

  function onMessage(topic: string, payload: Buffer, retain: boolean): void {
    const parsed = parseDeviceTopic(topic);
    // A revoked device's last words (its will, published when the broker dropped it) are refused, as embedded.
    if (parsed && revoked.has(parsed.deviceId)) return;
    let sessionId = 0;
    let closesSession = false;
    if (parsed?.kind === 'status') {
      if (payload.byteLength === 0) retained.delete(parsed.deviceId);
      const presence = payload.byteLength > 0 ? statusPresence(payload, parsed.deviceId, options.maxPayloadBytes) : undefined;
      if (presence === 'online') sessionId = sessions.open(parsed.deviceId);
      else sessionId = sessions.current(parsed.deviceId) ?? 0;
      closesSession = presence === 'offline';
    } else if (parsed) {
      // A device that talks is connected, whether or not the hub saw its Status.
      sessionId = sessions.open(parsed.deviceId);
    }
    void router.dispatch({ topic, payload, sessionId, retained: retain, viaWill: false }).then(
      (result) => {
        if (parsed?.kind === 'status' && result.outcome === 'accepted' && retain) retained.set(parsed.deviceId, new Uint8Array(payload));
        // After the router: liveness sees the goodbye from the live session, then the session ends.
        if (closesSession && result.outcome === 'accepted') sessions.close(parsed!.deviceId, 'disconnected');
      },
      (error: unknown) => log.error({ err: error, topic }, 'device message dispatch failed'),
    );
  }

  async function subscribeAndSync(client: MqttClient, dynsecSync: () => Promise<void>): Promise<void> {
    await client.subscribeAsync(DYNSEC_RESPONSE_TOPIC, { qos: 1 });
    // Retain As Published: the hub must tell a device's retained status from a live one [MQTT-3.3.1-12].
    await client.subscribeAsync(allDevicesFilter('status'), { qos: 1, rap: true });
    for (const [kind, qos] of SHARED_KINDS) await client.subscribeAsync(`$share/${SHARE_GROUP}/${allDevicesFilter(kind)}`, { qos });
    await dynsecSync();
  }

  function onConnect(client: MqttClient, dynsecSync: () => Promise<void>): Promise<void> {
    lastSync = subscribeAndSync(client, dynsecSync);
    return lastSync;
  }

  function requireConnected(): MqttClient {
    if (closed) throw new HubError('HUB_ERR_BROKER_CLOSED');
    if (!connection?.connected()) throw new HubError('HUB_ERR_BROKER_UNAVAILABLE');
    return connection.client;
  }

  const dynsec = createDynsecClient({
    client: { publishAsync: (...args: Parameters<MqttClient['publishAsync']>) => requireConnected().publishAsync(...args) },
    timeoutMs: options.dynsecTimeoutMs,
    clock: options.clock,
  });
  const provisioner = createDynsecProvisioner({
    dynsec,
    hubUsername: options.username,
    activeDeviceIds: options.activeDeviceIds,
    log,
    async clearRetainedStatus(deviceId) {
      retained.delete(deviceId);
      await requireConnected().publishAsync(deviceTopic(deviceId, 'status'), Buffer.alloc(0), { qos: 1, retain: true });
    },
  });

  // Read at scrape time: whether the hub can reach the broker and what it owes it (hub/docs/metrics.md).
  metrics.registry.gauge(
    'fedfleet_external_broker_connected', '1 while the hub is connected to the external broker, else 0.', () => (connection?.connected() ? 1 : 0),
  );
  metrics.registry.gauge(
    'fedfleet_external_broker_pending_provisioning', 'Devices enrolled while the external broker was out of reach, provisioned at the next connect.',
    () => provisioner.pendingCount(),
  );
  const connects = metrics.registry.counter(
    'fedfleet_external_broker_connects_total', 'Connections of the hub to the external broker, the first included: more than one means reconnects.',
  );

  return {
    router,
    events,
    async listen() {
      if (connection) throw new Error('the external broker connection is already running');
      const conn = createHubConnection({
        url: options.url,
        username: options.username,
        password: options.password,
        clientId: options.clientId ?? defaultHubClientId(options.dataDir),
        log,
        clock: options.clock,
        reconnectMinMs: options.reconnectMinMs,
        reconnectMaxMs: options.reconnectMaxMs,
        maximumPacketBytes: options.maxPayloadBytes + PUBLISH_OVERHEAD_BYTES,
        onConnect: (client) => onConnect(client, async () => {
          const report = await provisioner.sync();
          log.info({ provisioned: report.provisioned, deleted: report.deleted, missing: report.missing.length }, 'broker credentials re-synced with the store');
          if (report.missing.length > 0) {
            log.warn({ devices: report.missing.slice(0, 20), count: report.missing.length }, 'devices unknown to the broker must enroll again (the hub keeps no plain passwords)');
          }
        }),
      });
      connection = conn;
      conn.client.on('message', (topic, payload, packet) => {
        if (dynsec.handleMessage(topic, payload)) return;
        onMessage(topic, payload, packet.retain);
      });
      conn.client.on('connect', () => connects.inc());
      conn.client.on('close', () => dynsec.failAll('the connection to the broker closed'));
      await conn.started();
      return address;
    },
    handleConnection(stream) {
      // Devices connect to the external broker, never to the hub.
      stream.destroy();
    },
    address: () => (connection ? address : undefined),
    async sendToDevice(deviceId, kind, envelope) {
      if (!isValidDeviceId(deviceId)) throw new HubError('HUB_ERR_DEVICE_NOT_FOUND', { message: `invalid device id ${JSON.stringify(deviceId)}` });
      const client = requireConnected();
      const payload = encodeEnvelope({ ...envelope, deviceId });
      await client.publishAsync(deviceTopic(deviceId, kind), Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: 1 });
      metrics.mqttMessagesSent.inc({ kind });
    },
    sessionCount: () => sessions.count(),
    isConnected: (deviceId) => sessions.current(deviceId) !== undefined,
    currentSession: (deviceId) => sessions.current(deviceId),
    retainedStatus: async (deviceId) => retained.get(deviceId),
    async provisionDevice(deviceId, password) {
      if (!connection?.connected()) {
        log.warn({ deviceId }, 'the broker is out of reach: device provisioned when the hub reconnects');
        return provisioner.defer(deviceId, password);
      }
      try {
        await provisioner.provision(deviceId, password);
      } catch (error) {
        log.warn({ err: error, deviceId }, 'device not provisioned in the broker yet; retried at the next connect');
      }
    },
    async revokeDevice(deviceId) {
      revoked.add(deviceId);
      sessions.close(deviceId, 'revoked');
      retained.delete(deviceId);
      if (!connection?.connected() || !isValidDeviceId(deviceId)) return; // the next re-sync deletes it (the store says revoked)
      try {
        await provisioner.revoke(deviceId); // Mosquitto disconnects the client it deletes
      } catch (error) {
        log.warn({ err: error, deviceId }, 'device not yet revoked in the broker; retried at the next connect');
      }
    },
    brokerConnected: () => connection?.connected() === true,
    pendingProvisioning: () => provisioner.pendingCount(),
    synced: () => lastSync,
    async close() {
      if (closed) return;
      closed = true;
      await connection?.close();
    },
  };
}
