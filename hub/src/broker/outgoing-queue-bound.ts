/**
 * Bounds the QoS 1 and 2 messages aedes keeps for a persistent session (clean=0): those queued while the device is
 * offline and those sent and not yet acknowledged (PUBACK) — session state that outlives the connection
 * [MQTT-3.1.2-4, MQTT-4.4.0-1].
 *
 * aedes keeps them in one list per client id, without limit (and finds each acknowledgement by scanning it). The hub
 * answers every `fetch` a device sends with a `chunk` message, so a device with a persistent session that asked for
 * chunks and never acknowledged them — or hung up before they came — made the hub keep every answer, for good: a
 * few hundred more per reconnection, up to 256 KiB each for an artifact it was granted. Here a client id holds at most
 * `maxPerClient` of them, as Mosquitto's `max_queued_messages` does; a message beyond is dropped for that client. A
 * device that is connected then gets no such message and aedes closes its connection (it cannot send a message it
 * did not keep). A device acknowledges what it receives long before; what the hub must still deliver to a device that
 * comes back is re-sent by its senders (hub/src/commands).
 */

/** Unacknowledged and queued messages one client id may hold, as Mosquitto's default `max_queued_messages`. */
export const MAX_OUTGOING_PER_CLIENT = 1000;

interface Subscriber {
  clientId: string;
}

type Persistence = {
  outgoingEnqueue?(sub: Subscriber, packet: unknown): Promise<unknown>;
  outgoingEnqueueCombi?(subs: Subscriber[], packet: unknown): Promise<unknown>;
  outgoingClearMessageId?(client: { id: string }, packet: unknown): Promise<unknown>;
};

/**
 * Wraps aedes' persistence in place. Call it before anything else wraps these methods (session-state-guard.ts), so
 * that a write skipped there is not counted here.
 */
export function boundOutgoingQueue(persistence: object, options: { maxPerClient?: number; onDrop(clientId: string): void }): void {
  const maxPerClient = options.maxPerClient ?? MAX_OUTGOING_PER_CLIENT;
  const methods = persistence as Persistence;
  const enqueue = methods.outgoingEnqueue;
  const enqueueCombi = methods.outgoingEnqueueCombi;
  const clear = methods.outgoingClearMessageId;
  if (!enqueue || !enqueueCombi || !clear) return;
  // Messages held per client id, as the store holds them (the store offers no count).
  const held = new Map<string, number>();
  const admit = (sub: Subscriber): boolean => {
    const count = held.get(sub.clientId) ?? 0;
    if (count >= maxPerClient) {
      options.onDrop(sub.clientId);
      return false;
    }
    held.set(sub.clientId, count + 1);
    return true;
  };

  methods.outgoingEnqueue = async function bounded(this: unknown, sub, packet) {
    if (!admit(sub)) return undefined;
    return enqueue.call(this, sub, packet);
  };
  methods.outgoingEnqueueCombi = async function bounded(this: unknown, subs, packet) {
    const admitted = subs.filter(admit);
    if (admitted.length === 0) return undefined;
    return enqueueCombi.call(this, admitted, packet);
  };
  methods.outgoingClearMessageId = async function counted(this: unknown, client, packet) {
    const removed = await clear.call(this, client, packet);
    if (removed) {
      const count = (held.get(client.id) ?? 1) - 1;
      if (count > 0) held.set(client.id, count);
      else held.delete(client.id);
    }
    return removed;
  };
}
