/**
 * At most one log line per key per interval, so a flood of events does not become a flood of log lines: the first
 * event logs at once, the ones after it within the interval are only counted and reported with the next line. Keys
 * that have been quiet for an interval are forgotten (the counters of record are the metrics, not the log).
 */
export interface LogThrottle {
  /** Notes one event for `key`; returns the events since its last line (this one included) when a line is due. */
  note(key: string, nowMs: number): number | undefined;
  /** Keys remembered (for tests). */
  readonly size: number;
}

export function createLogThrottle(intervalMs: number): LogThrottle {
  // Insertion order = order of the last line logged, so the stalest keys sit at the front.
  const entries = new Map<string, { loggedAtMs: number; suppressed: number }>();
  return {
    note(key, nowMs) {
      const entry = entries.get(key);
      if (entry && nowMs - entry.loggedAtMs < intervalMs) {
        entry.suppressed++;
        return undefined;
      }
      entries.delete(key);
      entries.set(key, { loggedAtMs: nowMs, suppressed: 0 });
      for (const [oldKey, old] of entries) {
        if (nowMs - old.loggedAtMs < intervalMs) break;
        entries.delete(oldKey);
      }
      return (entry?.suppressed ?? 0) + 1;
    },
    get size() {
      return entries.size;
    },
  };
}
