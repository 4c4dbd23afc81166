/**
 * bench:ingest's hub, in a child process of its own so `process.cpuUsage()` is the hub's alone (the 1,000 MQTT
 * clients live in the parent). Builds and starts a hub on a temporary data directory and talks to the parent over
 * the IPC channel: `ready` (URLs, admin token), `commit` after each telemetry batch commits (samples per device, so
 * the parent can match them to its publish times), and answers `stats` (CPU time, database bytes, ingest counters).
 * The batch boundaries come from wrapping the fleet's telemetry ingest; nothing else in the hub is changed.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { buildHub } from '../../hub/src/build-hub.js';
import { createConfig } from '../../hub/src/config.js';
import { createLogger } from '../../hub/src/logger.js';
import { tempDir } from '../support/hub-process.js';

export type HubToParent =
  | { type: 'ready'; httpUrl: string; mqttUrl: string; adminToken: string }
  | { type: 'commit'; atMs: number; devices: Record<string, number> }
  | { type: 'stats'; cpuMicros: number; dbBytes: number; written: number; dropped: number; outOfOrder: number };
export type ParentToHub = { type: 'stats' } | { type: 'close' };

const send = (message: HubToParent) => process.send!(message);
const dir = tempDir('fedfleet-bench-ingest-');
const adminToken = `bench-${randomBytes(18).toString('hex')}`;
const config = createConfig({
  dataDir: join(dir.path, 'hub'), httpPort: 0, mqttPort: 0, host: '127.0.0.1', logLevel: 'warn', adminToken,
  enrollRatePerMin: 1_000_000, // one client address enrolls the whole simulated fleet
});
const hub = buildHub(config, { logger: createLogger('warn', process.stderr) });
const { httpUrl, mqttUrl } = await hub.listen();

const ingest = hub.fleet.telemetry;
const add = ingest.add.bind(ingest);
const flush = ingest.flush.bind(ingest);
/** Device ids of the queued samples, in queue order. */
const pending: string[] = [];
ingest.add = (sample) => {
  pending.push(sample.deviceId);
  const dropped = ingest.stats().dropped;
  add(sample);
  if (ingest.stats().dropped !== dropped) pending.pop(); // a full queue never flushes inside add
};
ingest.flush = () => {
  const written = flush();
  if (written > 0) {
    const devices: Record<string, number> = {};
    for (const id of pending.splice(0, written)) devices[id] = (devices[id] ?? 0) + 1;
    send({ type: 'commit', atMs: Date.now(), devices });
  }
  return written;
};

process.on('message', (message: ParentToHub) => {
  if (message.type === 'stats') {
    const cpu = process.cpuUsage();
    const { page_count: pages } = hub.store.db.prepare('PRAGMA page_count').get() as { page_count: number };
    const { page_size: pageSize } = hub.store.db.prepare('PRAGMA page_size').get() as { page_size: number };
    send({ type: 'stats', cpuMicros: cpu.user + cpu.system, dbBytes: pages * pageSize, ...ingest.stats() });
  } else if (message.type === 'close') {
    void hub.close().then(() => {
      dir.remove();
      process.exit(0);
    });
  }
});
send({ type: 'ready', httpUrl, mqttUrl, adminToken });
