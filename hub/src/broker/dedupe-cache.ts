/**
 * Remembers recently seen message ids so a QoS 1 redelivery ([MQTT-4.3.2]: "at least once") is processed once.
 * Bounded in both size and age: the oldest entries go first (a Map iterates in insertion order).
 */
export interface DedupeCache {
  /** True when `key` was seen within the window; otherwise records it and returns false. */
  seen(key: string, nowMs: number): boolean;
  readonly size: number;
}

export function createDedupeCache(options: { maxEntries: number; windowMs: number }): DedupeCache {
  const entries = new Map<string, number>();
  return {
    seen(key, nowMs) {
      const at = entries.get(key);
      if (at !== undefined && nowMs - at <= options.windowMs) return true;
      if (at !== undefined) entries.delete(key);
      entries.set(key, nowMs);
      // Expired entries sit at the front; drop them, then enforce the size bound.
      for (const [oldKey, oldAt] of entries) {
        if (nowMs - oldAt <= options.windowMs && entries.size <= options.maxEntries) break;
        entries.delete(oldKey);
      }
      return false;
    },
    get size() {
      return entries.size;
    },
  };
}
