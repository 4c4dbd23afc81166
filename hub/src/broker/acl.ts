/**
 * The device ACL (DESIGN section 2): a device publishes only to its own `ff/v1/dev/{id}/{status|telemetry|reply|
 * update|fetch}` and subscribes only to its own `cmd` and `chunk`, without wildcards.
 */
import { DEVICE_PUBLISH_KINDS, DEVICE_SUBSCRIBE_KINDS, parseDeviceTopic } from '@fedfleet/proto';

export type AclDecision = { allowed: true } | { allowed: false; reason: string };

const ALLOWED: AclDecision = { allowed: true };

export function checkDevicePublish(deviceId: string, topic: string): AclDecision {
  const parsed = parseDeviceTopic(topic);
  if (!parsed) return { allowed: false, reason: 'not a device topic' };
  if (parsed.deviceId !== deviceId) return { allowed: false, reason: 'topic of another device' };
  if (!DEVICE_PUBLISH_KINDS.includes(parsed.kind)) return { allowed: false, reason: `devices do not publish ${parsed.kind}` };
  return ALLOWED;
}

export function checkDeviceSubscribe(deviceId: string, filter: string): AclDecision {
  // Wildcards could match other devices' topics (or $SYS); a device never needs them.
  if (/[+#]/.test(filter)) return { allowed: false, reason: 'wildcard subscription' };
  if (filter.startsWith('$share/')) return { allowed: false, reason: 'shared subscription' };
  const parsed = parseDeviceTopic(filter);
  if (!parsed) return { allowed: false, reason: 'not a device topic' };
  if (parsed.deviceId !== deviceId) return { allowed: false, reason: 'topic of another device' };
  if (!DEVICE_SUBSCRIBE_KINDS.includes(parsed.kind)) return { allowed: false, reason: `devices do not subscribe to ${parsed.kind}` };
  return ALLOWED;
}
