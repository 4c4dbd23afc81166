/**
 * A simulated fleet spread over several `fedfleet sim` child processes (separate from the hub's), each running
 * a contiguous slice of device indices of one fleet, so device i is named `<prefix>-<i>` and trains partition i
 * whatever process it lives in.
 */
import { join } from 'node:path';
import { spawnChild, type Child } from './children.js';
import type { HubProcess } from './hub-process.js';
import { FEDFLEET_BIN, REPO_ROOT } from './paths.js';

export interface SimProcessesOptions {
  /** Devices in the whole fleet. */
  devices: number;
  /** Child processes to spread them over (default 1). */
  processes?: number;
  /** Training data spec (`mnist:iid`, `mnist:shards`, `mnist:dirichlet:0.5`). */
  data?: string;
  /** Seed of the data partition (and fault injection). Default 1. */
  seed?: number;
  /** Sim profile (default the sim's default, rpi-zero-2w). */
  profile?: string;
  /** Extra labels (every sim device also gets sim=true). */
  labels?: Record<string, string>;
  /** Extra `fedfleet sim` arguments (e.g. `--dropout 0.1`). */
  extraArgs?: readonly string[];
  /** Sim log level (default warn). */
  logLevel?: string;
  echo?: boolean;
  /** How long to wait for every device to be online, ms. Default 120,000. */
  startTimeoutMs?: number;
}

export interface SimProcesses {
  children: Child[];
  /** Stops every sim process gracefully (devices say goodbye to the hub). */
  stop(): Promise<void>;
}

/** Contiguous slices of `devices` indices over `processes`: sizes differ by at most one. */
export function slices(devices: number, processes: number): { firstIndex: number; count: number }[] {
  const n = Math.max(1, Math.min(processes, devices));
  return Array.from({ length: n }, (_, p) => {
    const firstIndex = Math.floor((p * devices) / n);
    return { firstIndex, count: Math.floor(((p + 1) * devices) / n) - firstIndex };
  });
}

/**
 * Starts the sim processes against `hub` and resolves once the hub reports every device online. Enrollment uses
 * the hub's admin token, passed in the environment.
 */
export async function startSimProcesses(hub: HubProcess, options: SimProcessesOptions): Promise<SimProcesses> {
  const children = slices(options.devices, options.processes ?? 1).map(({ firstIndex, count }, p) => {
    const args = [
      FEDFLEET_BIN, 'sim', '--hub', hub.httpUrl, '--devices', String(count), '--first-index', String(firstIndex),
      '--fleet-size', String(options.devices), '--seed', String(options.seed ?? 1), '--log-level', options.logLevel ?? 'warn',
      '--data-dir', join(hub.dataDir, `sim-${p}`),
    ];
    if (options.data) args.push('--data', options.data);
    if (options.extraArgs) args.push(...options.extraArgs);
    if (options.profile) args.push('--profile', options.profile);
    if (options.labels && Object.keys(options.labels).length > 0) {
      args.push('--labels', Object.entries(options.labels).map(([k, v]) => `${k}=${v}`).join(','));
    }
    return spawnChild(`sim-${p}`, process.execPath, args, {
      cwd: REPO_ROOT, env: { ...process.env, FEDFLEET_ADMIN_TOKEN: hub.adminToken }, echo: options.echo ?? false,
    });
  });
  const stop = async () => {
    await Promise.all(children.map((c) => c.stop()));
  };
  try {
    const timeoutMs = options.startTimeoutMs ?? 120_000;
    await Promise.all(children.map((c) => c.waitForLine(/^sim: \d+ \S+ devices online/, timeoutMs)));
    await waitForOnline(hub, options.devices, timeoutMs);
    return { children, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Polls the hub until `count` sim devices are online. */
export async function waitForOnline(hub: HubProcess, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { header } = await hub.api.withHeader<unknown[]>('/v1/devices?selector=sim%3Dtrue&status=online&limit=1', 'x-total-count');
    const online = Number(header ?? 0);
    if (online >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${online} of ${count} sim devices online after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
