/**
 * Per-key state of the limits that watch client addresses before authentication (enrollment, MQTT logins), with
 * bounded memory: a key is remembered only while it was used within `idleMs` (after that its buckets are full again,
 * indistinguishable from a new key's) and never more than `maxKeys` at once — the least recently used go first.
 */
export interface RecentKeys<T> {
  /** The state of `key` (created when new or forgotten), marked as used at `nowMs`. */
  touch(key: string, nowMs: number): T;
  /** Keys remembered (for tests). */
  readonly size: number;
}

export function createRecentKeys<T>(create: (nowMs: number) => T, options: { idleMs: number; maxKeys: number }): RecentKeys<T> {
  // Insertion order = order of last use: the stalest keys sit at the front.
  const entries = new Map<string, { value: T; lastSeenMs: number }>();
  return {
    touch(key, nowMs) {
      let entry = entries.get(key);
      if (entry) entries.delete(key);
      else entry = { value: create(nowMs), lastSeenMs: nowMs };
      entry.lastSeenMs = Math.max(entry.lastSeenMs, nowMs);
      entries.set(key, entry);
      for (const [oldKey, old] of entries) {
        if (entries.size <= options.maxKeys && nowMs - old.lastSeenMs < options.idleMs) break;
        entries.delete(oldKey);
      }
      return entry.value;
    },
    get size() {
      return entries.size;
    },
  };
}
