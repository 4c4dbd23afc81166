/**
 * Bounds what aedes keeps of the QoS 2 messages a client sent and has not released (PUBREL) — session state that
 * outlives the connection when the session is persistent (clean=0) [MQTT-4.3.3, MQTT-3.1.2-4].
 *
 * aedes stores each such PUBLISH whole, payload included, until its PUBREL, and bounds them only per connection
 * (`maxInflightInbound`, counted afresh by every connection). A device that logs in with clean=0, sends QoS 2
 * messages without ever releasing them and reconnects kept adding to its store — up to one message per packet id,
 * 65,535 of them, each as large as `maxPayloadBytes` allows — at the pace its rate limits accept: gigabytes of hub
 * memory within minutes. Here the store keeps no payload (aedes only asks whether a packet id is held: to answer a
 * redelivery with a PUBREC alone and a PUBREL with a PUBCOMP), and a client id holds at most `maxPerClient` packet
 * ids across its connections; a PUBLISH beyond that is refused and aedes closes the connection, as it does past
 * `maxInflightInbound` (MQTT 3.1.1 has no other answer). A client that releases what it sent never gets near it.
 */
import { HubError } from '../errors.js';

/** QoS 2 messages awaiting PUBREL one client id may hold, all its connections together (aedes' per-connection default). */
export const MAX_INBOUND_QOS2_PER_CLIENT = 1000;

const EMPTY = Buffer.alloc(0);

type Method = (client: { id: string }, packet: { messageId?: number; payload?: unknown }) => Promise<unknown>;

/**
 * Wraps aedes' persistence in place. Call it before anything else wraps these methods (session-state-guard.ts), so
 * that a write skipped there is not counted here.
 */
export function boundInboundQos2(persistence: object, options: { maxPerClient?: number; onRefuse(clientId: string, held: number): void }): void {
  const maxPerClient = options.maxPerClient ?? MAX_INBOUND_QOS2_PER_CLIENT;
  const methods = persistence as Record<'incomingStorePacket' | 'incomingDelPacket' | 'cleanIncoming', Method | undefined>;
  // Packet ids held per client id, as the store holds them (the store offers no count).
  const held = new Map<string, Set<number>>();
  const store = methods.incomingStorePacket;
  const del = methods.incomingDelPacket;
  const clean = methods.cleanIncoming;
  if (!store || !del) return;

  methods.incomingStorePacket = async function bounded(this: unknown, client, packet) {
    const ids = held.get(client.id) ?? new Set<number>();
    const messageId = packet.messageId ?? 0;
    if (!ids.has(messageId) && ids.size >= maxPerClient) {
      options.onRefuse(client.id, ids.size);
      throw new HubError('HUB_ERR_MQTT_UNRELEASED_BACKLOG');
    }
    ids.add(messageId);
    held.set(client.id, ids);
    return store.call(this, client, { ...packet, payload: EMPTY });
  };
  methods.incomingDelPacket = async function counted(this: unknown, client, packet) {
    const result = await del.call(this, client, packet);
    const ids = held.get(client.id);
    ids?.delete(packet.messageId ?? 0);
    if (ids?.size === 0) held.delete(client.id);
    return result;
  };
  if (clean) {
    methods.cleanIncoming = async function counted(this: unknown, client, ...rest) {
      const result = await (clean as (...args: unknown[]) => Promise<unknown>).call(this, client, ...rest);
      held.delete(client.id);
      return result;
    };
  }
}
