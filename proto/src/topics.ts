/**
 * MQTT topic names of the v1 contract (DESIGN section 2). All device traffic lives under
 * `ff/v1/dev/{deviceId}/{kind}`; device ids never contain `/`, `+` or `#`.
 */
export const TOPIC_PREFIX = 'ff/v1';

/** Per-device topic kinds with their direction. */
export const DEVICE_TOPIC_KINDS = ['status', 'telemetry', 'cmd', 'reply', 'update', 'fetch', 'chunk'] as const;
export type DeviceTopicKind = (typeof DEVICE_TOPIC_KINDS)[number];

/** Kinds a device publishes (device -> hub). */
export const DEVICE_PUBLISH_KINDS: readonly DeviceTopicKind[] = ['status', 'telemetry', 'reply', 'update', 'fetch'];
/** Kinds a device may subscribe to (hub -> device). */
export const DEVICE_SUBSCRIBE_KINDS: readonly DeviceTopicKind[] = ['cmd', 'chunk'];

const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidDeviceId(id: string): boolean {
  return DEVICE_ID_PATTERN.test(id);
}

export function deviceTopic(deviceId: string, kind: DeviceTopicKind): string {
  if (!isValidDeviceId(deviceId)) throw new TypeError(`invalid device id ${JSON.stringify(deviceId)}`);
  return `${TOPIC_PREFIX}/dev/${deviceId}/${kind}`;
}

/** Subscription filter the hub uses to receive one kind from every device. */
export function allDevicesFilter(kind: DeviceTopicKind): string {
  return `${TOPIC_PREFIX}/dev/+/${kind}`;
}

export interface ParsedDeviceTopic {
  deviceId: string;
  kind: DeviceTopicKind;
}

/** Parses `ff/v1/dev/{id}/{kind}`; returns undefined for anything else (including wildcards). */
export function parseDeviceTopic(topic: string): ParsedDeviceTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== 'ff' || parts[1] !== 'v1' || parts[2] !== 'dev') return undefined;
  const deviceId = parts[3]!;
  const kind = parts[4] as DeviceTopicKind;
  if (!isValidDeviceId(deviceId) || !DEVICE_TOPIC_KINDS.includes(kind)) return undefined;
  return { deviceId, kind };
}
