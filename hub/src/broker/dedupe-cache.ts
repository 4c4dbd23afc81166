/**
 * Remembers recently seen message ids per device so a QoS 1 redelivery ([MQTT-4.3.2]: "at least once") is
 * processed once. A redelivery arrives within seconds to minutes of the first copy, over the same session or a new
 * one ([MQTT-4.4.0-1]: the client resends unacknowledged PUBLISH packets on reconnect).
 *
 * Guarantee: an id is reported as seen while it is at most `windowMs` old AND among the last `perDeviceMaxEntries`
 * distinct ids of its device (whichever is shorter); after the window it is always forgotten. Every `seen()` costs
 * O(1) at any fill level, and memory is bounded per device (≤ 2 × `perDeviceMaxEntries` ids), so one flooding
 * device forgets its own oldest ids and never another device's.
 *
 * How: each device holds two generations of ids. When the current one is full or older than the window it becomes
 * the previous one and the old previous one is dropped whole — no per-entry eviction, no iteration. (The structure
 * this replaces restarted a `Map` iteration on every insert to evict the oldest entry; the holes deletions leave at
 * the front of V8's ordered hash table made each insert at the cap cost 20–100× one below it.) Devices are kept in
 * two generations the same way: a device that goes quiet is dropped with its ids within two windows, all expired.
 *
 * The number of devices is bounded by the broker, not here: a device publishes only under its own topic (DESIGN §2).
 */

/** Options of {@link createDedupeCache}. */
export interface DedupeCacheOptions {
  /** How long a message id is remembered, in milliseconds. Default 10 minutes. */
  windowMs?: number;
  /**
   * How many of a device's most recent distinct ids are remembered at least. A device holds at most twice this many.
   * Default 4096: far more than the QoS 1 messages a device has in flight when its connection drops.
   */
  perDeviceMaxEntries?: number;
}

export interface DedupeCache {
  /** True when `msgId` of `deviceId` was seen within the guarantee above; otherwise records it and returns false. */
  seen(deviceId: string, msgId: string, nowMs: number): boolean;
  /** Message ids held, over all devices (expired ones included until their generation is dropped). */
  readonly size: number;
  /** Devices held. */
  readonly devices: number;
}

export const DEFAULT_DEDUPE_WINDOW_MS = 10 * 60_000;
export const DEFAULT_DEDUPE_PER_DEVICE_MAX_ENTRIES = 4096;

/** One device's ids: msgId → first-seen time. `current` started at `currentSinceMs`. */
interface DeviceIds {
  current: Map<string, number>;
  previous: Map<string, number>;
  currentSinceMs: number;
}

export function createDedupeCache(options: DedupeCacheOptions = {}): DedupeCache {
  const windowMs = options.windowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
  const perDeviceMax = options.perDeviceMaxEntries ?? DEFAULT_DEDUPE_PER_DEVICE_MAX_ENTRIES;
  if (!(windowMs > 0) || !Number.isInteger(perDeviceMax) || perDeviceMax < 1) {
    throw new RangeError(`dedupe cache: windowMs must be > 0 and perDeviceMaxEntries an integer ≥ 1 (got ${windowMs}, ${perDeviceMax})`);
  }

  /** Devices seen since `rotatedAtMs`, and devices seen in the window before and not since. */
  let recent = new Map<string, DeviceIds>();
  let older = new Map<string, DeviceIds>();
  let rotatedAtMs = -Infinity;
  /** Ids held by all devices, and by the devices in `older` (dropped with them). */
  let totalIds = 0;
  let olderIds = 0;

  const held = (d: DeviceIds) => d.current.size + d.previous.size;

  /**
   * Drops devices not seen for a window. A device in `older` was last seen before `rotatedAtMs`, and now is at
   * least a window later, so every id it holds is expired. Amortized O(1): the maps are dropped, not walked.
   */
  function rotateDevices(nowMs: number): void {
    const elapsedMs = nowMs - rotatedAtMs;
    if (elapsedMs < windowMs) return;
    if (elapsedMs >= 2 * windowMs) {
      // No call since rotatedAtMs + windowMs (it would have rotated): everything held is expired.
      recent = new Map();
      older = new Map();
      totalIds = 0;
      olderIds = 0;
    } else {
      totalIds -= olderIds;
      older = recent;
      olderIds = totalIds;
      recent = new Map();
    }
    rotatedAtMs = nowMs;
  }

  /** The device's entry, in `recent`, with its generations rotated for `nowMs`. */
  function deviceFor(deviceId: string, nowMs: number): DeviceIds {
    let d = recent.get(deviceId);
    if (!d) {
      d = older.get(deviceId);
      if (d) {
        older.delete(deviceId);
        olderIds -= held(d);
      } else {
        d = { current: new Map(), previous: new Map(), currentSinceMs: nowMs };
      }
      recent.set(deviceId, d);
    }
    const ageMs = nowMs - d.currentSinceMs;
    if (ageMs > windowMs) {
      // As for devices: ids in `previous` were seen at or before `currentSinceMs`, more than a window ago, so they
      // are expired; and when the current generation is over two windows old no call rotated it in between, so its
      // ids are expired too.
      totalIds -= d.previous.size;
      if (ageMs > 2 * windowMs) {
        totalIds -= d.current.size;
        d.previous = new Map();
      } else {
        d.previous = d.current;
      }
      d.current = new Map();
      d.currentSinceMs = nowMs;
    }
    return d;
  }

  return {
    seen(deviceId, msgId, nowMs) {
      rotateDevices(nowMs);
      const d = deviceFor(deviceId, nowMs);
      const inCurrentAt = d.current.get(msgId);
      const at = inCurrentAt ?? d.previous.get(msgId);
      if (at !== undefined && nowMs - at <= windowMs) return true;
      if (d.current.size >= perDeviceMax) {
        // The previous generation's ids are older than the last `perDeviceMax`: forgetting them keeps the bound.
        totalIds -= d.previous.size;
        d.previous = d.current;
        d.current = new Map();
        d.currentSinceMs = nowMs;
        totalIds++;
      } else if (inCurrentAt === undefined) {
        totalIds++; // (an expired id still in `current` — only if the clock stepped back — is overwritten in place)
      }
      d.current.set(msgId, nowMs);
      return false;
    },
    get size() {
      return totalIds;
    },
    get devices() {
      return recent.size + older.size;
    },
  };
}
