import { cpus, freemem, loadavg, totalmem, uptime } from 'node:os';
import { readdir, readFile, statfs } from 'node:fs/promises';
import type { TelemetryProps } from '@fedfleet/proto';

/** Produces one telemetry sample per heartbeat. Firmware-sim devices supply their own. */
export interface TelemetrySource {
  sample(): Promise<TelemetryProps>;
}

export interface SystemTelemetryOptions {
  /** Directory whose file system's free space is reported (the agent's data dir). */
  diskPath: string;
  /** Roots read for temperature and network counters (tests point them at fixtures). */
  thermalRoot?: string;
  netDevPath?: string;
  /** Monotonic start of the agent, ms (Date.now()). */
  startedAtMs?: number;
  now?: () => number;
}

interface CpuTimes {
  idle: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

/** Highest temperature over `/sys/class/thermal/thermal_zone*\/temp` (millidegrees C), or undefined. */
export async function readTemperatureC(thermalRoot = '/sys/class/thermal'): Promise<number | undefined> {
  let zones: string[];
  try {
    zones = (await readdir(thermalRoot)).filter((name) => name.startsWith('thermal_zone'));
  } catch {
    return undefined;
  }
  let max: number | undefined;
  for (const zone of zones) {
    try {
      const milli = Number.parseInt(await readFile(`${thermalRoot}/${zone}/temp`, 'utf8'), 10);
      if (Number.isFinite(milli) && (max === undefined || milli / 1000 > max)) max = milli / 1000;
    } catch {
      // a zone without a readable temp file (common in containers) is skipped
    }
  }
  return max;
}

/** Sums receive/transmit bytes over non-loopback interfaces from `/proc/net/dev`. */
export async function readNetBytes(netDevPath = '/proc/net/dev'): Promise<{ rx: number; tx: number } | undefined> {
  let text: string;
  try {
    text = await readFile(netDevPath, 'utf8');
  } catch {
    return undefined;
  }
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!rest || name!.trim() === 'lo') continue;
    const fields = rest.trim().split(/\s+/).map(Number);
    rx += fields[0] ?? 0;
    tx += fields[8] ?? 0;
  }
  return { rx, tx };
}

/** Telemetry of the Linux board (or any Node.js host) the agent runs on. */
export class SystemTelemetry implements TelemetrySource {
  private previous = cpuTimes();
  private readonly startedAtMs: number;
  private readonly now: () => number;

  constructor(private readonly options: SystemTelemetryOptions) {
    this.now = options.now ?? Date.now;
    this.startedAtMs = options.startedAtMs ?? this.now();
  }

  async sample(): Promise<TelemetryProps> {
    const current = cpuTimes();
    const totalDelta = current.total - this.previous.total;
    const idleDelta = current.idle - this.previous.idle;
    this.previous = current;
    const [load1, load5, load15] = loadavg();
    const telemetry: TelemetryProps = {
      cpuPercent: totalDelta > 0 ? Math.max(0, Math.min(100, (100 * (totalDelta - idleDelta)) / totalDelta)) : 0,
      memTotalBytes: totalmem(),
      memFreeBytes: freemem(),
      rssBytes: process.memoryUsage.rss(),
      load1,
      load5,
      load15,
      uptimeSec: uptime(),
      agentUptimeSec: (this.now() - this.startedAtMs) / 1000,
    };
    const temperature = await readTemperatureC(this.options.thermalRoot);
    if (temperature !== undefined) telemetry.temperatureC = temperature;
    try {
      const fs = await statfs(this.options.diskPath);
      telemetry.diskFreeBytes = fs.bavail * fs.bsize;
      telemetry.diskTotalBytes = fs.blocks * fs.bsize;
    } catch {
      // data dir not created yet or statfs unsupported: leave unset
    }
    const net = await readNetBytes(this.options.netDevPath);
    if (net) {
      telemetry.netRxBytes = net.rx;
      telemetry.netTxBytes = net.tx;
    }
    return telemetry;
  }
}
