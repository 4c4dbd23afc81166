/**
 * Keeps a connection that has not authenticated away from the session state of the client id its CONNECT names.
 *
 * aedes takes the client id and the clean flag from a CONNECT before it asks `authenticate`, and ends every connection
 * as a session of that id: closing a clean one drops the id's inbound QoS 2 state ([MQTT-3.1.2-6]; aedes
 * lib/client.js `close` → `persistence.cleanIncoming`). A CONNECT that is refused, hangs up or is timed out by the
 * stream guard before its password check completes therefore wiped the device's messages awaiting PUBREL — state of
 * the device's own session [MQTT-3.1.2-4] — and a redelivery of them was then forwarded twice. Session state is
 * persistence keyed by client id, so the guard sits between aedes and its persistence: until a connection has
 * authenticated, every write of a client's session state that it causes is skipped.
 */

/** The persistence methods that change the session state of the client passed first (aedes-persistence API). */
export const SESSION_STATE_WRITES = [
  'addSubscriptions',
  'removeSubscriptions',
  'cleanSubscriptions',
  'outgoingUpdate',
  'outgoingClearMessageId',
  'incomingStorePacket',
  'incomingDelPacket',
  'cleanIncoming',
  'putWill',
  'delWill',
] as const;

export type SessionStateWrite = (typeof SESSION_STATE_WRITES)[number];

type Method = (client: unknown, ...rest: unknown[]) => unknown;

/**
 * Wraps the session-state writes of aedes' `persistence` in place (aedes reads it from the broker at each call).
 * A write whose client `isUnauthenticated` resolves at once without touching the store; aedes ignores what these
 * writes resolve to on the paths an unauthenticated client reaches (closing its connection). Promise-style calls
 * only, as aedes 1.x makes them.
 */
export function guardSessionState(
  persistence: object,
  isUnauthenticated: (client: unknown) => boolean,
  onSkip: (method: SessionStateWrite, client: unknown) => void,
): void {
  const methods = persistence as Record<string, unknown>;
  for (const name of SESSION_STATE_WRITES) {
    const write = methods[name];
    // aedes feature-detects some of them (cleanIncoming): one the store lacks stays absent.
    if (typeof write !== 'function') continue;
    methods[name] = function guarded(this: unknown, client: unknown, ...rest: unknown[]) {
      if (!isUnauthenticated(client)) return (write as Method).call(this, client, ...rest);
      onSkip(name, client);
      return Promise.resolve(undefined);
    };
  }
}
