/**
 * Which drift each device of a simulated fleet has now: the `--drift` rules, each from its delay after the fleet
 * started (the last matching rule wins), unless a test or operator set the device's drift directly
 * ({@link FleetDrift.set}, which wins over the rules until set again).
 */
import { parseDrift, selects, type Drift, type DriftRule } from './drift.js';

export interface DriftTarget {
  index: number;
  name: string;
  labels: Readonly<Record<string, string>>;
}

export class FleetDrift {
  private startedAtMs: number | undefined;
  private readonly overrides = new Map<number, Drift | null>();

  constructor(private readonly rules: readonly DriftRule[], private readonly clock: () => number) {}

  /** The rules' delays count from now. */
  start(): void {
    this.startedAtMs ??= this.clock();
  }

  /** Sets (a spec or parsed drift) or clears (null) the drift of these devices from now on, over any rule. */
  set(indices: Iterable<number>, drift: string | Drift | null): void {
    const parsed = typeof drift === 'string' ? parseDrift(drift) : drift;
    for (const index of indices) this.overrides.set(index, parsed);
  }

  of(device: DriftTarget): Drift | undefined {
    if (this.overrides.has(device.index)) return this.overrides.get(device.index) ?? undefined;
    if (this.startedAtMs === undefined) return undefined;
    const elapsedMs = this.clock() - this.startedAtMs;
    return this.rules.findLast((r) => elapsedMs >= r.afterMs && selects(r.devices, device))?.drift;
  }
}
