/**
 * What aedes may keep of a device publish, decided by the router's verdict. Once `authorizePublish` calls back
 * without an error, aedes acknowledges the publish, stores it in memory for good when `retain` is set, queues it
 * for offline subscribers and forwards it to live ones. So, before calling back:
 *
 * - `retain` stays only on the device's own `status` that the router accepted, or on the empty retained publish
 *   that deletes the retained status [MQTT-3.3.1-10]: junk, telemetry, updates… are never retained;
 * - a publish the router did not accept (malformed, oversize, duplicate, over the rate limit) is emptied and
 *   re-addressed to a hub-internal topic that no device may subscribe to (the ACL refuses `$SYS`), so it reaches
 *   neither the retained store nor any queue or subscriber. The publish still completes: a QoS 1 sender gets its
 *   PUBACK (router.ts says why the hub drops rather than disconnects).
 */
import type { DispatchResult } from './router.js';

/** The parts of an aedes PUBLISH packet the policy may rewrite (aedes lets authorizePublish modify the packet). */
export interface MutablePublish {
  topic: string;
  payload: Buffer | string;
  retain: boolean;
}

export function applyDispatchResult(packet: MutablePublish, result: DispatchResult, sinkTopic: string): void {
  const kept = result.outcome === 'accepted' || result.outcome === 'cleared';
  if (!kept) {
    packet.topic = sinkTopic;
    packet.payload = Buffer.alloc(0);
    packet.retain = false;
    return;
  }
  if (result.kind !== 'status') packet.retain = false;
}
