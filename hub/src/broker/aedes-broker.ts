/**
 * The embedded MQTT 3.1.1 broker: aedes on a plain TCP listener, with device authentication, the device ACL and
 * the hub's message routing wired into aedes' hooks.
 *
 * - CONNECT: no anonymous clients (CONNACK 5), clientId must equal the username (CONNACK 2), the password must
 *   match the device's scrypt hash (CONNACK 4), a last will may only target the device's own status topic
 *   (CONNACK 5) [MQTT-3.1.2-24 ff., MQTT-3.2.2-5: the connection is closed after a non-zero CONNACK]. An address
 *   whose password checks keep failing is refused before checking (CONNACK 3, auth-attempt-limiter.ts).
 * - PUBLISH: a denied publish closes the connection — MQTT 3.1.1 has no negative PUBACK and leaves the choice
 *   between acknowledging-and-dropping and disconnecting to the server [MQTT-3.3.5-2]; aedes disconnects. The
 *   hub's routing runs inside authorizePublish, i.e. before the PUBACK [MQTT-4.3.2-4], so a handler that commits
 *   state before returning gives the device commit-before-ack (DESIGN section 3).
 * - SUBSCRIBE: a denied subscription gets return code 0x80 in the SUBACK [MQTT-3.9.3-2]; the connection stays, up to
 *   MAX_DENIED_SUBSCRIPTIONS denials per session, the last of which closes it.
 * - Retained and forwarded is only what the router accepted, and only a device's own `status` stays retained
 *   (publish-policy.ts).
 * - Every connection, TCP or WebSocket, passes a stream guard (connection-guard.ts) that refuses oversize packets
 *   from their header and bounds what an unauthenticated connection may send, and for how long.
 * - Hub-internal traffic uses `aedes.publish` directly (no loopback client) and bypasses the ACL.
 * - A connection changes no session state of the client id it names — subscriptions, queued and in-flight messages,
 *   will — until it has authenticated, however it ends (session-state-guard.ts).
 * - QoS 2 messages awaiting PUBREL are kept without their payload, at most MAX_INBOUND_QOS2_PER_CLIENT per client id
 *   across its connections (inbound-qos2-bound.ts); a persistent session holds at most MAX_OUTGOING_PER_CLIENT
 *   messages queued for it or unacknowledged (outgoing-queue-bound.ts).
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { Aedes, type AuthenticateError, type Client, type ConnectPacket, type PublishPacket } from 'aedes';
import { deviceTopic, encodeEnvelope, isValidDeviceId } from '@fedfleet/proto';
import type { Clock } from '../clock.js';
import type { HubLogger } from '../logger.js';
import type { DeviceCredentials } from '../auth/device-credentials.js';
import { HubError } from '../errors.js';
import { TypedEmitter } from '../events/typed-emitter.js';
import { createLogThrottle } from '../limits/log-throttle.js';
import type { HubMetrics } from '../metrics/hub-metrics.js';
import { connectableHost, formatHostForUrl } from '../net-address.js';
import { checkDevicePublish, checkDeviceSubscribe } from './acl.js';
import { createAuthAttemptLimiter } from './auth-attempt-limiter.js';
import type { Broker, BrokerAddress, BrokerEventMap } from './broker.js';
import { GuardedConnection, PUBLISH_OVERHEAD_BYTES, type GuardRefusal } from './connection-guard.js';
import { boundInboundQos2 } from './inbound-qos2-bound.js';
import { boundOutgoingQueue } from './outgoing-queue-bound.js';
import { applyDispatchResult } from './publish-policy.js';
import type { DispatchResult, Router } from './router.js';
import { guardSessionState } from './session-state-guard.js';

export interface AedesBrokerOptions {
  router: Router;
  credentials: Pick<DeviceCredentials, 'verify'>;
  log: HubLogger;
  metrics: HubMetrics;
  /** Refuse a CONNECT whose keepalive exceeds this (seconds, 0 = no limit). Default 0. */
  keepaliveLimitSec?: number;
  /** Drives the connect timeout. */
  clock: Clock;
  /** Largest device payload (config `maxPayloadBytes`); packets may be this plus PUBLISH_OVERHEAD_BYTES. */
  maxPayloadBytes: number;
  /** Largest packet, and most bytes in all, a connection may send before its session is accepted. */
  maxConnectBytes: number;
  /** A connection whose session is not accepted within this many seconds is closed. */
  connectTimeoutSec: number;
  /** Packets per second a logged-in connection may send, twice that at once. Default ACCEPTED_PACKET_RATE. */
  packetsPerSec?: number;
  /** Failed password checks per minute (and at once) per client address. Default AUTH_FAILURES_PER_MIN. */
  loginFailuresPerMin?: number;
}

/** How a connection that arrived over another transport reached the hub (for the stream guard and logs). */
export interface TransportInfo {
  remoteAddress?: string;
  /** The socket under a framing layer (WebSocket), whose buffering the guard must bound too. */
  rawSocket?: Readable;
}

export interface AedesBroker extends Broker {
  handleConnection(stream: Duplex, transport?: TransportInfo): void;
  /** The aedes instance underneath, for diagnostics and tests (its retained store, broker-level subscribers). */
  readonly aedes: Aedes;
}

/**
 * Denied subscription filters a session may ask for; the one that reaches this closes the connection. A device
 * subscribes to two topics and is never denied, but one SUBSCRIBE may carry thousands of filters (aedes checks each:
 * tens of microseconds and a log line apiece), and SUBSCRIBE is outside the per-device publish rate limits.
 */
export const MAX_DENIED_SUBSCRIPTIONS = 16;

/** CONNACK return codes of MQTT 3.1.1 (table 3.1). */
const CONNACK = { IDENTIFIER_REJECTED: 2, SERVER_UNAVAILABLE: 3, BAD_USERNAME_OR_PASSWORD: 4, NOT_AUTHORIZED: 5 } as const;

function authError(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function createAedesBroker(options: AedesBrokerOptions): Promise<AedesBroker> {
  const { router, credentials, log, metrics } = options;
  const events = new TypedEmitter<BrokerEventMap>((error, name) => log.error({ err: error, event: name }, 'broker event listener failed'));
  const connectPackets = new WeakMap<Client, ConnectPacket>();
  // Connections whose CONNECT arrived and has not authenticated (yet): they may not touch session state.
  const unauthenticated = new WeakSet<Client>();
  const sessionIds = new WeakMap<Client, number>();
  const currentSessions = new Map<string, number>();
  const keepaliveTimedOut = new WeakSet<Client>();
  const takenOver = new WeakSet<Client>();
  const deniedSubscriptions = new WeakMap<Client, number>();
  const revoked = new Set<string>();
  let nextSessionId = 1;
  let server: Server | undefined;
  let boundAddress: BrokerAddress | undefined;
  let closed = false;

  const remoteAddressOf = (client: Client) => (client.conn as { remoteAddress?: string }).remoteAddress;
  function refuse(client: Client, reason: string, returnCode: number, done: (error: AuthenticateError | null, ok: boolean | null) => void): void {
    metrics.authFailures.inc({ reason });
    log.warn({ clientId: client.id, remoteAddress: remoteAddressOf(client), reason }, 'mqtt connection refused');
    done(authError(returnCode, reason), false);
  }

  // Password checks per client address (auth-attempt-limiter.ts); refusals for it are logged once per 10 s per address.
  const loginAttempts = createAuthAttemptLimiter({ perMin: options.loginFailuresPerMin });
  const packetRate = options.packetsPerSec === undefined ? undefined : { perSec: options.packetsPerSec, burst: 2 * options.packetsPerSec };
  const loginAttemptsLog = createLogThrottle(10_000);
  function refuseAttempt(client: Client, address: string, done: (error: AuthenticateError | null, ok: boolean | null) => void): void {
    const reason = 'too many failed logins';
    metrics.authFailures.inc({ reason });
    const refused = loginAttemptsLog.note(address, options.clock.now());
    if (refused !== undefined) log.warn({ clientId: client.id, remoteAddress: address, reason, refused }, 'mqtt connections refused');
    done(authError(CONNACK.SERVER_UNAVAILABLE, reason), false); // [MQTT-3.2.2-3]: "server unavailable", try later
  }

  const brokerId = 'fedfleet-hub';
  // Where publishes the router did not accept go: `$SYS`, which the ACL lets no device subscribe to.
  const sinkTopic = `$SYS/${brokerId}/dropped`;
  const aedes = await Aedes.createBroker({
    id: brokerId,
    // Device ids are up to 64 characters; the 23-character limit only ever applied to MQTT 3.1.
    maxClientsIdLength: 64,
    keepaliveLimit: options.keepaliveLimitSec ?? 0,
    // aedes' own timer stops once a CONNECT is parsed; the stream guard's runs until the session is accepted.
    connectTimeout: options.connectTimeoutSec * 1000,
    preConnect(client, packet, callback) {
      connectPackets.set(client, packet);
      unauthenticated.add(client);
      callback(null, true);
    },
    authenticate(client, username, password, done) {
      const packet = connectPackets.get(client);
      connectPackets.delete(client);
      if (!username || !password || password.length === 0) return refuse(client, 'anonymous', CONNACK.NOT_AUTHORIZED, done);
      if (client.id !== username) return refuse(client, 'client id differs from username', CONNACK.IDENTIFIER_REJECTED, done);
      if (!isValidDeviceId(username) || revoked.has(username)) {
        return refuse(client, 'bad credentials', CONNACK.BAD_USERNAME_OR_PASSWORD, done);
      }
      const will = packet?.will;
      if (will && will.topic !== deviceTopic(username, 'status')) {
        return refuse(client, 'last will outside the device status topic', CONNACK.NOT_AUTHORIZED, done);
      }
      const address = remoteAddressOf(client) ?? 'unknown';
      if (!loginAttempts.reserve(address, options.clock.now())) return refuseAttempt(client, address, done);
      credentials.verify(username, password.toString('utf8')).then(
        (ok) => {
          if (!ok) return refuse(client, 'bad credentials', CONNACK.BAD_USERNAME_OR_PASSWORD, done);
          loginAttempts.refund(address, options.clock.now());
          // The connection may have gone while the password was checked (scrypt takes milliseconds): aedes then drops
          // it unregistered and never takes over [MQTT-3.1.4-2], so the device's live session must stay current. From
          // here to aedes' registerClient nothing waits on I/O, so a connection open now is the one aedes registers.
          if (client.closed) return done(null, false);
          const previous = liveClients[username];
          if (previous) {
            // [MQTT-3.1.4-2]: aedes now closes the older session (publishing its will) before it registers this one.
            // This session becomes current first, so that will and that close are recognised as stale.
            takenOver.add(previous);
            startSession(client);
          }
          unauthenticated.delete(client);
          done(null, true);
        },
        (error: unknown) => {
          log.error({ err: error, clientId: username }, 'credential check failed');
          refuse(client, 'credential check failed', CONNACK.NOT_AUTHORIZED, done);
        },
      );
    },
    authorizePublish(client, packet, callback) {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : packet.payload;
      const settle = (result: DispatchResult) => {
        applyDispatchResult(packet, result, sinkTopic);
        callback(null);
      };
      const dispatch = (sessionId: number, viaWill: boolean) =>
        router.dispatch({ topic: packet.topic, payload, sessionId, retained: packet.retain, viaWill }).then(settle, (error: unknown) => {
          // The router contains handler failures; this is a bug in the router itself. Keep the session going.
          log.error({ err: error, topic: packet.topic }, 'device message dispatch failed');
          settle({ outcome: 'rejected' });
        });
      // A null client is aedes publishing a will left by a vanished session: no session is current for it (0), but
      // it is checked like any will before aedes may retain it.
      if (!client) return void dispatch(0, true);
      const deviceId = client.id;
      const decision = revoked.has(deviceId) ? { allowed: false as const, reason: 'device revoked' } : checkDevicePublish(deviceId, packet.topic);
      if (!decision.allowed) {
        metrics.aclDenials.inc({ action: 'publish' });
        log.warn({ deviceId, topic: packet.topic, reason: decision.reason }, 'mqtt publish denied');
        return callback(new Error(`publish to ${packet.topic} denied: ${decision.reason}`));
      }
      void dispatch(sessionIds.get(client) ?? 0, client.closed);
    },
    authorizeSubscribe(client, subscription, callback) {
      const denied = deniedSubscriptions.get(client) ?? 0;
      if (denied >= MAX_DENIED_SUBSCRIPTIONS) return callback(new Error('too many denied subscriptions'));
      const decision = checkDeviceSubscribe(client.id, subscription.topic);
      if (decision.allowed) return callback(null, subscription);
      metrics.aclDenials.inc({ action: 'subscribe' });
      deniedSubscriptions.set(client, denied + 1);
      if (denied + 1 === MAX_DENIED_SUBSCRIPTIONS) {
        // An error makes aedes close the connection (no SUBACK); it still offers this packet's remaining filters,
        // which the check above refuses without a metric or a log line.
        log.warn({ deviceId: client.id, topic: subscription.topic, reason: decision.reason, denied: denied + 1 }, 'mqtt connection closed: too many denied subscriptions');
        return callback(new Error('too many denied subscriptions'));
      }
      log.warn({ deviceId: client.id, topic: subscription.topic, reason: decision.reason }, 'mqtt subscribe denied');
      callback(null, null); // SUBACK 0x80 for this filter
    },
  });

  // aedes keeps its live clients by id and its persistence but does not declare them in its types.
  const internals = aedes as unknown as { clients: Record<string, Client | undefined>; persistence: object };
  const liveClients = internals.clients;
  // First: a write the session-state guard below skips must not be counted.
  boundInboundQos2(internals.persistence, {
    onRefuse(clientId, held) {
      metrics.mqttConnectionsRefused.inc({ reason: 'unreleased-qos2-backlog' });
      log.warn({ clientId, held }, 'mqtt connection closed: too many QoS 2 messages awaiting PUBREL');
    },
  });
  const outgoingDropLog = createLogThrottle(10_000);
  boundOutgoingQueue(internals.persistence, {
    onDrop(clientId) {
      metrics.mqttOutgoingDropped.inc();
      const dropped = outgoingDropLog.note(clientId, options.clock.now());
      if (dropped !== undefined) log.warn({ clientId, dropped }, 'mqtt message dropped: the session holds too many unacknowledged messages');
    },
  });
  guardSessionState(
    internals.persistence,
    (client) => unauthenticated.has(client as Client),
    (method, client) => log.debug({ clientId: (client as Client).id, method }, 'session state left alone: connection not authenticated'),
  );

  /** Gives an authenticated client its session id and makes it the device's current session. */
  function startSession(client: Client): number {
    const sessionId = nextSessionId++;
    sessionIds.set(client, sessionId);
    currentSessions.set(client.id, sessionId);
    return sessionId;
  }

  aedes.on('client', (client) => {
    // Authenticated: the connection leaves the unauthenticated budget and timer for the per-packet limit.
    if (client.conn instanceof GuardedConnection) client.conn.accept();
    const sessionId = sessionIds.get(client) ?? startSession(client);
    log.debug({ deviceId: client.id, sessionId }, 'mqtt session opened');
    events.emit('session.open', { deviceId: client.id, sessionId });
  });
  aedes.on('clientDisconnect', (client) => {
    const sessionId = sessionIds.get(client);
    if (sessionId === undefined) return;
    if (currentSessions.get(client.id) === sessionId) currentSessions.delete(client.id);
    const reason = revoked.has(client.id)
      ? 'revoked'
      : takenOver.has(client)
        ? 'taken-over'
        : keepaliveTimedOut.has(client)
          ? 'keepalive-timeout'
          : 'disconnected';
    log.debug({ deviceId: client.id, sessionId, reason }, 'mqtt session closed');
    events.emit('session.close', { deviceId: client.id, sessionId, reason });
  });
  aedes.on('keepaliveTimeout', (client) => keepaliveTimedOut.add(client));
  aedes.on('clientError', (client, error) => log.debug({ clientId: client.id, err: error }, 'mqtt client error'));
  aedes.on('connectionError', (client, error) => log.debug({ clientId: client.id, err: error }, 'mqtt connection error'));

  function onGuardRefusal(refusal: GuardRefusal): void {
    metrics.mqttConnectionsRefused.inc({ reason: refusal.reason });
    log.warn(refusal, 'mqtt connection closed by the stream guard');
  }

  /** Serves one connection through the stream guard. */
  function serve(stream: Duplex, transport: TransportInfo = {}): void {
    const guarded = new GuardedConnection(stream, {
      maxConnectBytes: options.maxConnectBytes,
      maxPacketBytes: options.maxPayloadBytes + PUBLISH_OVERHEAD_BYTES,
      connectTimeoutMs: options.connectTimeoutSec * 1000,
      packetRate,
      clock: options.clock,
      remoteAddress: transport.remoteAddress,
      rawSocket: transport.rawSocket,
      onRefuse: onGuardRefusal,
    });
    aedes.handle(guarded);
  }

  function publish(packet: Omit<PublishPacket, 'cmd' | 'dup'>): Promise<void> {
    if (closed) return Promise.reject(new HubError('HUB_ERR_BROKER_CLOSED'));
    return new Promise((resolve, reject) => {
      aedes.publish({ cmd: 'publish', dup: false, ...packet }, (error) => (error ? reject(error) : resolve()));
    });
  }

  return {
    router,
    events,
    aedes,
    async listen({ port, host }) {
      if (server) throw new Error('the MQTT listener is already running');
      const tcp = createServer((socket) => serve(socket));
      server = tcp;
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      tcp.on('error', (error) => log.error({ err: error }, 'mqtt listener error'));
      const bound = tcp.address() as AddressInfo;
      const connectHost = connectableHost(host);
      boundAddress = { host: connectHost, port: bound.port, url: `mqtt://${formatHostForUrl(connectHost)}:${bound.port}` };
      return boundAddress;
    },
    handleConnection(stream, transport) {
      if (closed) {
        stream.destroy();
        return;
      }
      serve(stream, transport);
    },
    address: () => boundAddress,
    async sendToDevice(deviceId, kind, envelope) {
      if (!isValidDeviceId(deviceId)) throw new HubError('HUB_ERR_DEVICE_NOT_FOUND', { message: `invalid device id ${JSON.stringify(deviceId)}` });
      const payload = encodeEnvelope({ ...envelope, deviceId });
      await publish({ topic: deviceTopic(deviceId, kind), payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), qos: 1, retain: false });
      metrics.mqttMessagesSent.inc({ kind });
    },
    sessionCount: () => currentSessions.size,
    isConnected: (deviceId) => liveClients[deviceId]?.connected === true,
    currentSession: (deviceId) => currentSessions.get(deviceId),
    async retainedStatus(deviceId) {
      if (!isValidDeviceId(deviceId) || closed) return undefined;
      const persistence = (aedes as unknown as { persistence: { createRetainedStream(pattern: string): AsyncIterable<PublishPacket> } }).persistence;
      for await (const packet of persistence.createRetainedStream(deviceTopic(deviceId, 'status'))) {
        return typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      }
      return undefined;
    },
    async revokeDevice(deviceId) {
      revoked.add(deviceId);
      const client = liveClients[deviceId];
      if (client) await new Promise<void>((resolve) => client.close(() => resolve()));
      if (!closed && isValidDeviceId(deviceId)) {
        await publish({ topic: deviceTopic(deviceId, 'status'), payload: Buffer.alloc(0), qos: 0, retain: true });
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      if (server) {
        const tcp = server;
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
      }
    },
  };
}
