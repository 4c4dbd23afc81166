/**
 * Simulated data drift (issue 11 item 2: "simulated devices can be told to shift their data"): how a device's
 * serving traffic departs from the data it was trained on. `fedfleet sim --drift <devices>:<shift>[@<after>]` and
 * `SimFleet.setDrift` (firmware-sim/docs/simulated-fleet.md#data-drift). Shifts apply to the held-out examples the
 * simulated traffic serves, never to the training or self-test data, so the hub sees the gap between the two.
 */
import { standardNormal } from '@fedfleet/proto';

/** One shift. Values may leave [0, 1]: the input histogram's end bins count them. */
export type DataShift =
  | { kind: 'invert' } // x → 1 − x (images scaled to [0, 1])
  | { kind: 'noise'; sigma: number } // x → x + N(0, sigma²), per value
  | { kind: 'brightness'; factor: number } // x → factor · x
  | { kind: 'labels'; labels: readonly number[] }; // serve only examples of these classes

/** Shifts applied in order (`invert+noise:0.1`). */
export interface Drift {
  spec: string;
  shifts: readonly DataShift[];
}

/** A `--drift` entry: which devices, what shift, how long after the fleet started. */
export interface DriftRule {
  /** `all`, a fleet index `3`, an index range `0-4`, a device name `sim-003`, or a label `k=v`. */
  devices: string;
  drift: Drift;
  afterMs: number;
}

const positive = (text: string, what: string): number => {
  const value = Number(text);
  if (!(Number.isFinite(value) && value >= 0) || text.trim() === '') throw new RangeError(`${what} must be a non-negative number, got ${JSON.stringify(text)}`);
  return value;
};

function parseShift(text: string): DataShift {
  const [kind, arg, ...rest] = text.split(':');
  if (rest.length > 0) throw new RangeError(`drift shift ${JSON.stringify(text)} has too many ':'`);
  if (kind === 'invert' && arg === undefined) return { kind: 'invert' };
  if (kind === 'noise' && arg !== undefined) return { kind: 'noise', sigma: positive(arg, 'noise sigma') };
  if (kind === 'brightness' && arg !== undefined) return { kind: 'brightness', factor: positive(arg, 'brightness factor') };
  if (kind === 'labels' && arg) {
    const labels = arg.split(',').map((l) => Number(l));
    if (labels.some((l) => !Number.isInteger(l) || l < 0 || l > 255)) throw new RangeError(`drift labels ${JSON.stringify(arg)} are not class numbers`);
    return { kind: 'labels', labels };
  }
  throw new RangeError(`unknown drift ${JSON.stringify(text)}: invert | noise:<sigma> | brightness:<factor> | labels:<d>,<d>,…`);
}

/**
 * `invert`, `noise:0.3`, `brightness:0.5`, `labels:7,8,9`, or several joined with `+`.
 * @throws RangeError naming what is wrong.
 */
export function parseDrift(spec: string): Drift {
  return { spec, shifts: spec.split('+').map(parseShift) };
}

const DELAY = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const DELAY_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * `<devices>:<shift>[@<after>]`, e.g. `site=b:invert@30s`, `0-4:noise:0.2@2m`, `all:labels:7,8,9`.
 * @throws RangeError naming the entry.
 */
export function parseDriftRule(entry: string): DriftRule {
  const colon = entry.indexOf(':');
  const at = entry.lastIndexOf('@');
  const devices = entry.slice(0, colon);
  const spec = entry.slice(colon + 1, at > colon ? at : undefined);
  const delay = at > colon ? DELAY.exec(entry.slice(at + 1)) : null;
  if (colon < 1 || !spec || (at > colon && !delay)) throw new RangeError(`--drift ${JSON.stringify(entry)} is not <devices>:<shift>[@<after>]`);
  return { devices, drift: parseDrift(spec), afterMs: delay ? Number(delay[1]) * DELAY_MS[(delay[2] ?? 's') as keyof typeof DELAY_MS] : 0 };
}

/** Whether a `DriftRule.devices` selector names the device. */
export function selects(devices: string, device: { index: number; name: string; labels: Readonly<Record<string, string>> }): boolean {
  if (devices === 'all' || devices === '*') return true;
  const range = /^(\d+)(?:-(\d+))?$/.exec(devices);
  if (range) return device.index >= Number(range[1]) && device.index <= Number(range[2] ?? range[1]);
  const eq = devices.indexOf('=');
  if (eq > 0) return device.labels[devices.slice(0, eq)] === devices.slice(eq + 1);
  return devices === device.name;
}

/** The classes `drift` restricts serving to, or undefined when it serves every class. */
export function servedLabels(drift: Drift | undefined): ReadonlySet<number> | undefined {
  const shift = drift?.shifts.findLast((s) => s.kind === 'labels');
  return shift?.kind === 'labels' ? new Set(shift.labels) : undefined;
}

/** Writes `input` shifted by `drift` into `out` (same length; no allocation). */
export function shiftInput(input: Float32Array, drift: Drift, out: Float32Array, random: () => number): Float32Array {
  out.set(input);
  for (const shift of drift.shifts) {
    if (shift.kind === 'invert') for (let i = 0; i < out.length; i++) out[i] = 1 - out[i]!;
    else if (shift.kind === 'brightness') for (let i = 0; i < out.length; i++) out[i] = out[i]! * shift.factor;
    else if (shift.kind === 'noise') for (let i = 0; i < out.length; i++) out[i] = out[i]! + shift.sigma * standardNormal(random);
  }
  return out;
}
