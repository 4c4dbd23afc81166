import type { TelemetryProps } from '@fedfleet/proto';
import type { TelemetrySource } from '@fedfleet/agent';
import type { SimProfile } from './profiles.js';

/**
 * Plausible telemetry of a simulated device: load follows whether it is busy, memory and temperature follow load,
 * with per-device jitter from a seeded generator so a fleet does not report identical numbers.
 */
export class SimTelemetry implements TelemetrySource {
  private readonly startedAtMs: number;
  constructor(
    private readonly profile: SimProfile,
    private readonly busy: () => boolean,
    private readonly random: () => number,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAtMs = now();
  }

  async sample(): Promise<TelemetryProps> {
    const load = this.busy() ? 0.85 + 0.15 * this.random() : 0.05 + 0.1 * this.random();
    const uptimeSec = (this.now() - this.startedAtMs) / 1000;
    return {
      cpuPercent: 100 * load,
      memTotalBytes: this.profile.ramBytes,
      memFreeBytes: Math.round(this.profile.ramBytes * (0.6 - 0.4 * load)),
      rssBytes: Math.round(this.profile.ramBytes * (0.1 + 0.3 * load)),
      load1: load * (this.profile.cores ?? 1),
      load5: load * (this.profile.cores ?? 1) * 0.8,
      load15: load * (this.profile.cores ?? 1) * 0.6,
      uptimeSec,
      agentUptimeSec: uptimeSec,
      temperatureC: 38 + 30 * load + 2 * this.random(),
      diskFreeBytes: Math.round(this.profile.flashBytes * 0.5),
      diskTotalBytes: this.profile.flashBytes,
    };
  }
}
