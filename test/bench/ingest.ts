/**
 * `npm run bench:ingest`: telemetry ingestion at fleet scale (issue 11). A hub runs in a child process
 * (ingest-hub.ts); this process enrolls `--devices` (default 1,000) devices over HTTP, connects each as a lightweight
 * `mqtt` client and publishes Telemetry (QoS 0) every real 10 s heartbeat — the devices spread evenly over the
 * period — for `--duration-sec` (default 90). Measures messagesPerSec (committed), p99LagMs (publish → batch
 * committed, same machine clock), hubCpuPct (the child's CPU time over wall time, % of one core) and the live
 * database growth; dbBytesPerDeviceDay comes from a full device-day of the same readings (ingest-day.ts), since a
 * minute-long run cannot show what blocks and rollups cost once filled. Anchor: Prometheus TSDB ≈ 1.3 bytes per
 * sample (Gorilla chunks); goal ≤ 200 KB per device-day, against 4.4 MB with JSON rows.
 * Writes test/bench/results/ingest.json; the last stdout line is one JSON object.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic, encodeEnvelope } from '@fedfleet/proto';
import { HubApi } from '../support/hub-api.js';
import { BenchOutput } from './bench-output.js';
import { measureDeviceDay } from './ingest-day.js';
import type { HubToParent, ParentToHub } from './ingest-hub.js';
import { DeviceSignal } from './ingest-telemetry.js';

const { values } = parseArgs({
  options: { devices: { type: 'string', default: '1000' }, 'duration-sec': { type: 'string', default: '90' }, 'heartbeat-sec': { type: 'string', default: '10' } },
});
const deviceCount = Number(values.devices);
const durationMs = Number(values['duration-sec']) * 1000;
const heartbeatMs = Number(values['heartbeat-sec']) * 1000;
const out = new BenchOutput();
const PROFILE = { kind: 'bench-board', ramBytes: 2 * 1024 ** 3, flashBytes: 32 * 1024 ** 3, cpuMhz: 1500, int8Only: false, canTrain: false, cores: 4, arch: 'arm64' };

const child = fork(fileURLToPath(new URL('./ingest-hub.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
const listeners = new Set<(message: HubToParent) => void>();
child.on('message', (message: HubToParent) => listeners.forEach((listener) => listener(message)));
function next<T extends HubToParent['type']>(type: T): Promise<Extract<HubToParent, { type: T }>> {
  return new Promise((resolve) => {
    const listener = (message: HubToParent) => {
      if (message.type !== type) return;
      listeners.delete(listener);
      resolve(message as Extract<HubToParent, { type: T }>);
    };
    listeners.add(listener);
  });
}
const ask = (message: ParentToHub) => child.send(message);
const stats = () => {
  const reply = next('stats');
  ask({ type: 'stats' });
  return reply;
};

/** Runs `task` over `items`, `limit` at a time. */
async function pool<T, R>(items: T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let cursor = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (cursor < items.length) {
      const index = cursor++;
      results[index] = await task(items[index]!, index);
    }
  }));
  return results;
}

const ready = await next('ready');
const api = new HubApi(ready.httpUrl, ready.adminToken);
const clients: MqttClient[] = [];
try {
  out.note(`enrolling and connecting ${deviceCount} devices…`);
  const { token } = await api.request<{ token: string }>('POST', '/v1/enrollment-tokens', { maxUses: deviceCount });
  const devices = await pool(Array.from({ length: deviceCount }, (_, i) => i), 20, async (i) => {
    const enrolled = await api.request<{ deviceId: string; username: string; password: string; clientId: string }>(
      'POST', '/v1/enroll', { token, name: `bench-${i}`, profile: PROFILE },
    );
    const client = await mqtt.connectAsync(ready.mqttUrl, {
      username: enrolled.username, password: enrolled.password, clientId: enrolled.clientId, reconnectPeriod: 0, keepalive: 60,
    });
    clients.push(client);
    out.progress('devices', clients.length, deviceCount);
    return { id: enrolled.deviceId, client, signal: new DeviceSignal(i, heartbeatMs / 1000), published: [] as number[] };
  });
  out.endProgress();
  const byId = new Map(devices.map((d) => [d.id, d]));

  const lagsMs: number[] = [];
  let committed = 0;
  let measuring = false;
  listeners.add((message) => {
    if (message.type !== 'commit') return;
    for (const [id, count] of Object.entries(message.devices)) {
      const device = byId.get(id);
      for (let k = 0; k < count; k++) {
        const publishedMs = device?.published.shift();
        if (publishedMs === undefined || !measuring) continue;
        lagsMs.push(message.atMs - publishedMs);
        committed++;
      }
    }
  });

  out.note(`publishing every ${heartbeatMs / 1000} s for ${durationMs / 1000} s…`);
  const before = await stats();
  const startMs = Date.now();
  measuring = true;
  const timers: NodeJS.Timeout[] = [];
  devices.forEach((device, i) => {
    const publish = () => {
      device.published.push(Date.now());
      device.client.publish(deviceTopic(device.id, 'telemetry'), Buffer.from(encodeEnvelope({ deviceId: device.id, telemetry: device.signal.next() })), { qos: 0 });
    };
    timers.push(setTimeout(() => {
      publish();
      timers.push(setInterval(publish, heartbeatMs));
    }, Math.floor((i / deviceCount) * heartbeatMs)));
  });
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  timers.forEach((timer) => clearTimeout(timer));
  await new Promise((resolve) => setTimeout(resolve, 2000)); // the last batch commits
  measuring = false;
  const wallMs = Date.now() - startMs;
  const after = await stats();

  lagsMs.sort((a, b) => a - b);
  const percentile = (p: number) => lagsMs[Math.min(lagsMs.length - 1, Math.floor(p * lagsMs.length))] ?? NaN;
  out.note('replaying a full device-day of the same readings for the storage figure…');
  const day = measureDeviceDay(20, heartbeatMs / 1000);
  const windowSec = durationMs / 1000;
  const result = {
    bench: 'ingest',
    devices: deviceCount,
    messagesPerSec: Number((committed / windowSec).toFixed(1)),
    p99LagMs: Math.round(percentile(0.99)),
    hubCpuPct: Number((((after.cpuMicros - before.cpuMicros) / 1000 / wallMs) * 100).toFixed(1)),
    dbBytesPerDeviceDay: day.bytesPerDeviceDay,
  };
  const details = {
    ...result,
    heartbeatSec: heartbeatMs / 1000,
    durationSec: windowSec,
    samplesCommitted: committed,
    samplesDropped: after.dropped - before.dropped,
    samplesUnmatched: devices.reduce((n, d) => n + d.published.length, 0),
    p50LagMs: Math.round(percentile(0.5)),
    maxLagMs: Math.round(lagsMs.at(-1) ?? NaN),
    liveDbGrowthBytes: after.dbBytes - before.dbBytes,
    deviceDay: day,
    anchor: { prometheusBytesPerSample: 1.3, goalBytesPerDeviceDay: 200_000, jsonRowsBytesPerDeviceDay: 4_400_000 },
    machine: { cores: cpus().length, loadavgAtEnd: loadavg().map((l) => Number(l.toFixed(2))) },
    at: new Date().toISOString(),
  };
  writeFileSync(fileURLToPath(new URL('./results/ingest.json', import.meta.url)), `${JSON.stringify(details, null, 2)}\n`);
  out.line(`devices ${deviceCount}, ${result.messagesPerSec} msg/s committed, p50 lag ${details.p50LagMs} ms, p99 lag ${result.p99LagMs} ms, hub CPU ${result.hubCpuPct} %`);
  out.line(`storage: ${day.bytesPerDeviceDay} B per device-day (${day.bytesPerSample} B per sample, all tiers); raw ${day.payloadBytesPerDeviceDay.raw} B, minute ${day.payloadBytesPerDeviceDay.minute} B, hour ${day.payloadBytesPerDeviceDay.hour} B packed`);
  out.line(JSON.stringify(result));
} finally {
  await Promise.all(clients.map((client) => client.endAsync(true)));
  ask({ type: 'close' });
}
