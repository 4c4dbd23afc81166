/**
 * The rules measured on each Telemetry sample: what each measures, in which unit, and which way is bad. A rule
 * whose measurement the sample does not carry (no sensor, a total of 0) skips the sample — it neither opens nor
 * resolves anything.
 */
import type { TelemetryJson } from '../fleet/telemetry-json.js';
import type { AlertRule } from './alert-config.js';
import type { Direction } from './sustained-threshold.js';

export interface TelemetryRule {
  rule: AlertRule;
  direction: Direction;
  /** The measurement, or null when the sample cannot tell. */
  measure(telemetry: TelemetryJson): number | null;
  /** The alert's message for a measurement `value` against the opening threshold. */
  describe(value: number, openAt: number, openForSec: number): string;
}

const percent = (part: number | undefined, total: number | undefined): number | null =>
  part !== undefined && total !== undefined && total > 0 ? (100 * part) / total : null;
const held = (openForSec: number) => (openForSec > 0 ? ` for ${formatDuration(openForSec)}` : '');

export function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export const TELEMETRY_RULES: readonly TelemetryRule[] = [
  {
    rule: 'cpu-pressure',
    direction: 'above',
    measure: (t) => t.cpuPercent ?? null,
    describe: (value, openAt, forSec) => `CPU ${value.toFixed(0)} % ≥ ${openAt} %${held(forSec)}`,
  },
  {
    rule: 'memory-pressure',
    direction: 'above',
    measure: (t) => {
      const free = percent(t.memFreeBytes, t.memTotalBytes);
      return free === null ? null : 100 - free;
    },
    describe: (value, openAt, forSec) => `memory ${value.toFixed(0)} % used ≥ ${openAt} %${held(forSec)}`,
  },
  {
    rule: 'temperature',
    direction: 'above',
    measure: (t) => t.temperatureC ?? null,
    describe: (value, openAt, forSec) => `temperature ${value.toFixed(1)} °C ≥ ${openAt} °C${held(forSec)}`,
  },
  {
    rule: 'disk-low',
    direction: 'below',
    measure: (t) => percent(t.diskFreeBytes, t.diskTotalBytes),
    describe: (value, openAt, forSec) => `disk ${value.toFixed(1)} % free < ${openAt} %${held(forSec)}`,
  },
];
