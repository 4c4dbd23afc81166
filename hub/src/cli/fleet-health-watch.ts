/**
 * `fedfleet fleet health --watch`: the summary, drawn again whenever it changes. It follows the hub's event stream
 * (device and alert events, and rollout progress for the versions in service) and fetches `GET /v1/fleet/health`
 * once per burst of events (debounced), drawing only when the answer differs from what is on screen. Like
 * `rollouts watch` it subscribes before it fetches, so no change falls between the two, and subscribes and fetches
 * again when the stream drops. It runs until `signal` aborts (Ctrl-C).
 */
import type { HubEventMap } from '../events/hub-events.js';
import '../fleet/fleet-events.js';
import '../health/health-events.js';
import '../rollouts/rollout-events.js';
import { createModelNames, printFleetHealth, type FleetHealthAnswer } from './fleet-health-view.js';
import type { HubClient } from './hub-client.js';
import { println, type CliIo } from './io.js';
import { isHubUnreachable, sleepMs, subscribeWithRetry } from './subscribe-with-retry.js';

/** The events after which the summary may read differently. */
export const FLEET_HEALTH_WATCH_EVENTS = [
  'device.enrolled', 'device.online', 'device.offline', 'device.revoked', 'device.relabelled',
  'alert.opened', 'alert.resolved', 'alert.acknowledged', 'rollout.target',
] as const satisfies ReadonlyArray<keyof HubEventMap>;

export interface FleetHealthWatchOptions {
  signal: AbortSignal;
  /** Quiet time after an event before fetching, so a burst (a site going offline) draws once. Default 500 ms. */
  debounceMs?: number;
  /** Wait before subscribing again after the stream dropped. Default 1000 ms. */
  retryMs?: number;
  /** Consecutive failed reconnects before the watch gives up (HUB_ERR_HUB_UNREACHABLE). Default 60. */
  maxRetries?: number;
  /** One compact JSON line per change instead of tables (`--json`). */
  json?: boolean;
}

/** Watches until `signal` aborts; exit status 0. A failure other than a dropped stream ends it with its error. */
export async function watchFleetHealth(client: HubClient, io: CliIo, options: FleetHealthWatchOptions): Promise<number> {
  const { signal } = options;
  const debounceMs = options.debounceMs ?? 500;
  const retryMs = options.retryMs ?? 1000;
  const maxRetries = options.maxRetries ?? 60;
  const tty = Boolean(io.stdout.isTTY) && !options.json;
  const modelNames = createModelNames(client);
  let shown = '';
  let draws = 0;

  async function refresh(): Promise<void> {
    const health = await client.request<FleetHealthAnswer>('GET', '/v1/fleet/health');
    const text = JSON.stringify(health);
    if (text === shown || signal.aborted) return;
    shown = text;
    if (options.json) return println(io.stdout, text);
    const models = await modelNames(health);
    // A terminal shows the current summary in place; a log gets one stamped block per change.
    if (tty) io.stdout.write('\x1b[H\x1b[2J');
    else if (draws > 0) println(io.stdout, `--- ${new Date().toISOString()}`);
    draws++;
    printFleetHealth(io, health, models);
  }

  while (!signal.aborted) {
    const connection = new AbortController();
    const stop = () => connection.abort();
    signal.addEventListener('abort', stop, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failure: unknown;
    let pending = Promise.resolve();
    try {
      const events = await subscribeWithRetry(client, FLEET_HEALTH_WATCH_EVENTS, connection.signal, { retryMs, maxRetries, stop: signal });
      if (!events) break;
      await refresh();
      for await (const _event of events) {
        if (timer) continue; // a fetch is already due: it will see this change too
        timer = setTimeout(() => {
          timer = undefined;
          // One fetch at a time, in order; a failed fetch ends this connection and is reported below.
          pending = pending.then(refresh).catch((error: unknown) => {
            failure ??= error;
            connection.abort();
          });
        }, debounceMs);
      }
      await pending;
      if (failure && !isHubUnreachable(failure)) throw failure;
    } finally {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', stop);
      connection.abort();
    }
    // The stream ended (the hub restarted, the network failed): subscribe again and catch up from the API.
    if (!signal.aborted) await sleepMs(retryMs, signal);
  }
  return 0;
}
