/**
 * bench:ingest's simulated readings: one device's Telemetry every heartbeat, shaped like what a Linux board's agent
 * reports — counters that grow (uptime, traffic, inferences), gauges that wander (CPU, load, memory in pages,
 * latency percentiles), slow sensors (temperature at 0.1 °C), constants (totals, heartbeat) and a battery on half of
 * the devices. Seeded, so a run and its device-day replay (ingest-day.ts) see the same kind of series.
 */
import { mulberry32, type fedfleet } from '@fedfleet/proto';

const PAGE = 4096;

const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;
const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

export class DeviceSignal {
  private readonly rand: () => number;
  private readonly battery: boolean;
  private uptimeSec: number;
  private cpu: number;
  private load1 = 0.5;
  private load5 = 0.5;
  private load15 = 0.5;
  private memFreePages: number;
  private rssPages = 12_000;
  private temperature: number;
  private diskFreeBlocks = 3_000_000;
  private netRx = 0;
  private netTx = 0;
  private batteryPercent = 100;
  private inferences = 0;
  private accuracy: number;
  private p50Ms = 10;
  private p95Ms = 28;

  constructor(
    index: number,
    private readonly heartbeatSec = 10,
  ) {
    this.rand = mulberry32(0x9e3779b9 ^ index);
    this.battery = index % 2 === 1;
    this.uptimeSec = Math.floor(this.rand() * 1_000_000);
    this.cpu = 10 + this.rand() * 30;
    this.memFreePages = 200_000 + Math.floor(this.rand() * 50_000);
    this.temperature = 40 + this.rand() * 15;
    this.accuracy = 0.85 + this.rand() * 0.1;
  }

  /** The next heartbeat's Telemetry. */
  next(): fedfleet.v1.ITelemetry {
    const r = this.rand;
    this.uptimeSec += this.heartbeatSec;
    this.cpu = clamp(this.cpu + (r() - 0.5) * 8, 1, 99);
    this.load1 = clamp(this.load1 + (r() - 0.5) * 0.3, 0, 4);
    this.load5 += (this.load1 - this.load5) / 30;
    this.load15 += (this.load1 - this.load15) / 90;
    this.memFreePages += Math.round((r() - 0.5) * 200);
    if (r() < 0.2) this.rssPages += Math.round((r() - 0.5) * 20);
    if (r() < 0.3) this.temperature = clamp(this.temperature + (r() - 0.5) * 0.6, 20, 85);
    if (r() < 0.1) this.diskFreeBlocks -= Math.floor(r() * 50);
    this.netRx += 500 + Math.floor(r() * 4000);
    this.netTx += 200 + Math.floor(r() * 1500);
    if (this.battery && r() < 0.05) this.batteryPercent = Math.max(0, this.batteryPercent - 0.1);
    this.inferences += Math.floor(r() * 20);
    // Percentiles over the agent's sliding window of latencies move a little per heartbeat, not at random.
    this.p50Ms = clamp(this.p50Ms + (r() - 0.5) * 0.6, 2, 50);
    this.p95Ms = clamp(this.p95Ms + (r() - 0.5) * 1.2, this.p50Ms, 200);
    if (r() < 0.002) this.accuracy = clamp(this.accuracy + (r() - 0.5) * 0.02, 0, 1);
    return {
      cpuPercent: round(this.cpu, 2),
      memTotalBytes: 2 * 1024 ** 3,
      memFreeBytes: this.memFreePages * PAGE,
      rssBytes: this.rssPages * PAGE,
      load1: round(this.load1, 2),
      load5: round(this.load5, 2),
      load15: round(this.load15, 2),
      uptimeSec: this.uptimeSec,
      agentUptimeSec: this.uptimeSec - 100,
      temperatureC: round(this.temperature, 1),
      diskFreeBytes: this.diskFreeBlocks * PAGE,
      diskTotalBytes: 32 * 1024 ** 3,
      netRxBytes: this.netRx,
      netTxBytes: this.netTx,
      ...(this.battery ? { batteryPercent: round(this.batteryPercent, 1), charging: false } : {}),
      activeVersionId: 'v1',
      inferenceCount: this.inferences,
      inferenceP50Ms: round(this.p50Ms, 2),
      inferenceP95Ms: round(this.p95Ms, 2),
      localAccuracy: round(this.accuracy, 4),
      heartbeatSec: this.heartbeatSec,
    };
  }
}
