/**
 * `npm run bench:dedupe`: the cost of one duplicate check (`seen()`) in the router's duplicate-message cache as it
 * fills — from empty to its cap and past it — for the current cache (`hub/src/broker/dedupe-cache.ts`) and, side by
 * side in the same run, the previous implementation (copied below), which evicted by restarting a `Map` iteration
 * on every insert (issue 7, defect 8: 1.4 µs per message below its cap, 31–150 µs at it).
 *
 *   node --import tsx test/bench/dedupe.ts
 *
 * Two workloads, each cache with its defaults (window 10 minutes; the previous one 100,000 ids in all, the current
 * one 4,096 ids per device at least):
 * - flood: one device publishing distinct ids at 17,000 messages/s (the hub's measured QoS 1 intake). Fill is
 *   counted against each cache's own cap: 100,000 ids for the previous one, the device's 4,096 for the current one.
 * - heartbeat: 2,000 devices, one message each every 10 s (DESIGN §2 default heartbeat). Fill is counted against
 *   the previous cache's cap (100,000 messages, 500 s of traffic), the same messages for both caches.
 * Each row is the CPU time per call of the calls that took the cache from one fill level to the next (0, 25, 50, 75,
 * 100 % of the cap, then 150 and 200 % past it): messages are built beforehand, so only `seen()` is timed, with
 * the garbage collection and table growth it causes. Each figure is the median of several runs from empty (more
 * for the current cache, whose spans are short). CPU time, not wall time, since the machine is shared; still,
 * compare the rows of one run, not runs. Lines on stdout; the last line is one JSON object.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { createDedupeCache } from '../../hub/src/broker/dedupe-cache.js';
import { BenchOutput } from './bench-output.js';

/** What the bench needs of a cache: the router's call. */
interface Cache {
  seen(deviceId: string, msgId: string, nowMs: number): boolean;
  readonly size: number;
}

/**
 * The previous implementation (hub/src/broker/dedupe-cache.ts before issue 7), verbatim but for its types, and the
 * key the router built for it. Kept here as the peer this bench measures against.
 */
function createPreviousDedupeCache(options: { maxEntries: number; windowMs: number }) {
  const entries = new Map<string, number>();
  return {
    seen(key: string, nowMs: number) {
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

const WINDOW_MS = 10 * 60_000;
const PREVIOUS_MAX_ENTRIES = 100_000;
const PER_DEVICE_MAX_ENTRIES = 4096;

const IMPLEMENTATIONS: Record<string, { cap: number; make: () => Cache }> = {
  current: { cap: PER_DEVICE_MAX_ENTRIES, make: () => createDedupeCache({ windowMs: WINDOW_MS, perDeviceMaxEntries: PER_DEVICE_MAX_ENTRIES }) },
  previous: {
    cap: PREVIOUS_MAX_ENTRIES,
    make: () => {
      const cache = createPreviousDedupeCache({ maxEntries: PREVIOUS_MAX_ENTRIES, windowMs: WINDOW_MS });
      return { seen: (deviceId, msgId, nowMs) => cache.seen(`${deviceId}\u0000${msgId}`, nowMs), get size() { return cache.size; } };
    },
  },
};

const T0_MS = Date.UTC(2024, 0, 1);
/** A UUID-shaped id (36 characters, as `encodeEnvelope` makes them) that differs for every message. */
const uuidLike = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

interface Workload {
  name: string;
  describe: string;
  deviceId(i: number): string;
  nowMs(i: number): number;
  /** Messages that make 100 % for an implementation with this cap. */
  axis(cap: number): number;
}

const HEARTBEAT_DEVICES = 2000;
const HEARTBEAT_SEC = 10;
const WORKLOADS: Workload[] = [
  {
    name: 'flood',
    describe: '1 device, 17,000 distinct ids/s',
    deviceId: () => 'flooder',
    nowMs: (i) => T0_MS + Math.floor(i / 17),
    axis: (cap) => cap,
  },
  {
    name: 'heartbeat',
    describe: `${HEARTBEAT_DEVICES.toLocaleString('en-US')} devices, one message per ${HEARTBEAT_SEC} s each`,
    deviceId: (i) => `dev-${i % HEARTBEAT_DEVICES}`,
    nowMs: (i) => T0_MS + Math.floor((i * HEARTBEAT_SEC * 1000) / HEARTBEAT_DEVICES),
    axis: () => PREVIOUS_MAX_ENTRIES,
  },
];

/** Fill levels, in % of the axis: each measurement spans from one level to the next; beyond 100 is past the cap. */
const LEVELS = [0, 25, 50, 75, 100, 150, 200];

interface Measurement {
  workload: string;
  implementation: string;
  /** The calls measured took the cache from `fromPct` to `toPct` of its cap. */
  fromPct: number;
  toPct: number;
  /** Messages the cache had seen before the first call measured. */
  messagesBefore: number;
  /** Calls measured, over all runs. */
  timedCalls: number;
  /** Median over the runs of nanoseconds per call within the span, garbage collection and growth included. */
  nsPerSeen: number;
  /** Slowest run's nanoseconds per call within the span (the machine is shared: noise shows here). */
  maxNsPerSeen: number;
  /** Ids the cache held at the end of the span. */
  entriesHeld: number;
}

/** The messages of a workload, built once so that only `seen()` is timed. */
interface Messages {
  devices: string[];
  ids: string[];
  times: Float64Array;
}

function buildMessages(workload: Workload, count: number): Messages {
  const devices = new Array<string>(count);
  const ids = new Array<string>(count);
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    devices[i] = workload.deviceId(i);
    ids[i] = uuidLike(i);
    times[i] = workload.nowMs(i);
  }
  return { devices, ids, times };
}

/** Feeds one cache from empty to the last level; returns the nanoseconds per call and the size for each span. */
function runOnce(make: () => Cache, axis: number, messages: Messages): { nsPerCall: number; held: number }[] {
  const cache = make();
  const { devices, ids, times } = messages;
  const spans: { nsPerCall: number; held: number }[] = [];
  for (let k = 0; k + 1 < LEVELS.length; k++) {
    const from = Math.round((LEVELS[k]! / 100) * axis);
    const to = Math.round((LEVELS[k + 1]! / 100) * axis);
    const start = process.cpuUsage();
    for (let i = from; i < to; i++) cache.seen(devices[i]!, ids[i]!, times[i]!);
    const used = process.cpuUsage(start);
    spans.push({ nsPerCall: ((used.user + used.system) * 1000) / (to - from), held: cache.size });
  }
  return spans;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs from empty per implementation and workload: enough calls per span, the whole bench under a minute. */
const REPEATS: Record<string, Record<string, number>> = {
  current: { flood: 51, heartbeat: 5 },
  previous: { flood: 3, heartbeat: 3 },
};

function measure(workload: Workload, implementation: string, messages: Messages, onRun: () => void): Measurement[] {
  const { cap, make } = IMPLEMENTATIONS[implementation]!;
  const axis = workload.axis(cap);
  runOnce(make, Math.min(axis, 2500), messages); // warm-up: let the JIT compile the paths first
  const runs: { nsPerCall: number; held: number }[][] = [];
  for (let r = 0; r < REPEATS[implementation]![workload.name]!; r++) {
    runs.push(runOnce(make, axis, messages));
    onRun();
  }
  return LEVELS.slice(0, -1).map((fromPct, k) => {
    const from = Math.round((fromPct / 100) * axis);
    const perRun = runs.map((spans) => spans[k]!.nsPerCall);
    return {
      workload: workload.name,
      implementation,
      fromPct,
      toPct: LEVELS[k + 1]!,
      messagesBefore: from,
      timedCalls: runs.length * (Math.round((LEVELS[k + 1]! / 100) * axis) - from),
      nsPerSeen: Math.round(median(perRun)),
      maxNsPerSeen: Math.round(Math.max(...perRun)),
      entriesHeld: runs.at(-1)![k]!.held,
    };
  });
}

function main(): number {
  const { values } = parseArgs({ options: { help: { type: 'boolean' } } });
  if (values.help) {
    process.stdout.write('Usage: npm run bench:dedupe   (no options; about half a minute)\n');
    return 0;
  }
  const out = new BenchOutput();
  out.note(`bench:dedupe window ${WINDOW_MS / 60_000} min; previous cache: ${PREVIOUS_MAX_ENTRIES.toLocaleString('en-US')} ids in all; current: ${PER_DEVICE_MAX_ENTRIES.toLocaleString('en-US')} per device`);
  const measurements: Measurement[] = [];
  const runs = WORKLOADS.reduce((n, w) => n + REPEATS.current![w.name]! + REPEATS.previous![w.name]!, 0);
  let done = 0;
  for (const workload of WORKLOADS) {
    const count = Math.max(...Object.values(IMPLEMENTATIONS).map((impl) => Math.round((LEVELS.at(-1)! / 100) * workload.axis(impl.cap))));
    const messages = buildMessages(workload, count);
    out.line(`${workload.name}: ${workload.describe}`);
    out.line(`  ${'implementation'.padEnd(15)}${'fill'.padStart(12)}${'messages before'.padStart(17)}${'ns per seen()'.padStart(15)}` +
      `${'slowest run'.padStart(13)}${'ids held'.padStart(10)}`);
    for (const implementation of ['current', 'previous']) {
      const label = `${workload.name} × ${implementation}`;
      out.progress(label, done, runs);
      for (const m of measure(workload, implementation, messages, () => out.progress(label, ++done, runs))) {
        measurements.push(m);
        out.line(`  ${m.implementation.padEnd(15)}${`${m.fromPct}–${m.toPct} %`.padStart(12)}${m.messagesBefore.toLocaleString('en-US').padStart(17)}` +
          `${m.nsPerSeen.toLocaleString('en-US').padStart(15)}${m.maxNsPerSeen.toLocaleString('en-US').padStart(13)}` +
          `${m.entriesHeld.toLocaleString('en-US').padStart(10)}`);
      }
    }
  }
  out.endProgress();
  const spanNs = (workload: string, implementation: string, past: boolean) =>
    measurements.filter((m) => m.workload === workload && m.implementation === implementation && (m.fromPct >= 100) === past).map((m) => m.nsPerSeen);
  /** The slowest span past the cap over the slowest span below it: 1 is flat; robust to a fast first span. */
  const slowdown = (workload: string, implementation: string) =>
    Math.round((Math.max(...spanNs(workload, implementation, true)) / Math.max(1, ...spanNs(workload, implementation, false))) * 10) / 10;
  const summary = {
    bench: 'dedupe',
    windowMs: WINDOW_MS,
    previousMaxEntries: PREVIOUS_MAX_ENTRIES,
    perDeviceMaxEntries: PER_DEVICE_MAX_ENTRIES,
    measurements,
    slowdownPastCap: Object.fromEntries(WORKLOADS.map((w) => [w.name, { current: slowdown(w.name, 'current'), previous: slowdown(w.name, 'previous') }])),
    anchor: 'issue 7 defect 8: previous cache 1.4 µs per message below its cap, 31–150 µs at it; peer: the previous implementation, same run',
    machine: { cpus: cpus().length, node: process.version },
    date: new Date().toISOString(),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

process.exitCode = main();
