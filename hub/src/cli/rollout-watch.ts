/**
 * `fedfleet rollouts watch <id>` (and `create --watch`): follows a rollout from the hub's event stream until it
 * completes, aborts or is superseded. It subscribes first and fetches the rollout second, so no change can fall
 * between the two; when the stream drops (the hub restarted, the network failed) it subscribes and fetches again,
 * as the hub continues a rollout after a restart. Exit status 0 only when the rollout completed.
 */
import type { RolloutDetailJson } from '../rollouts/schemas.js';
import type { RolloutState } from '../rollouts/rollout-state.js';
import type { HubClient } from './hub-client.js';
import { printJson, type CliIo } from './io.js';
import { createRolloutWatchDisplay, ROLLOUT_WATCH_EVENTS, type RolloutWatchDisplay, type RolloutWatchEvent } from './rollout-watch-display.js';
import { sleepMs, subscribeWithRetry } from './subscribe-with-retry.js';

export interface WatchOptions {
  /** Wait before subscribing again after the stream dropped. Default 1000 ms. */
  retryMs?: number;
  /** Consecutive failed reconnects before the watch gives up (HUB_ERR_HUB_UNREACHABLE). Default 60. */
  maxRetries?: number;
  /** Print nothing while it runs, and the ended rollout as JSON (`--json`, for scripts). */
  json?: boolean;
}

/** `--json`: one JSON value on stdout, the rollout as it ended. */
const jsonDisplay = (io: CliIo): RolloutWatchDisplay => ({ sync() {}, apply() {}, finish: (rollout) => printJson(io, rollout) });

/** The states after which a rollout's waves change no more (a completed one only deploys to devices that join). */
const WATCH_ENDS: readonly RolloutState[] = ['completed', 'aborted', 'superseded'];

export async function watchRollout(client: HubClient, io: CliIo, id: string, options: WatchOptions = {}): Promise<number> {
  const retryMs = options.retryMs ?? 1000;
  const maxRetries = options.maxRetries ?? 60;
  const path = `/v1/rollouts/${encodeURIComponent(id)}`;
  const display = options.json ? jsonDisplay(io) : createRolloutWatchDisplay(io);
  for (;;) {
    const connection = new AbortController();
    try {
      // Without `stop` it only ends by subscribing or by throwing.
      const events = (await subscribeWithRetry(client, ROLLOUT_WATCH_EVENTS, connection.signal, { retryMs, maxRetries }))!;
      const rollout = await client.request<RolloutDetailJson>('GET', path);
      display.sync(rollout);
      if (WATCH_ENDS.includes(rollout.state)) return finish(rollout);
      for await (const event of events) {
        const data = event.data as { rolloutId?: string };
        if (data?.rolloutId !== rollout.id) continue;
        display.apply(event as RolloutWatchEvent);
        if (event.name === 'rollout.state' && WATCH_ENDS.includes((event.data as { state: RolloutState }).state)) {
          return finish(await client.request<RolloutDetailJson>('GET', path));
        }
      }
    } finally {
      connection.abort();
    }
    // The stream ended while the rollout runs: subscribe again and catch up from the API.
    await sleepMs(retryMs);
  }

  function finish(rollout: RolloutDetailJson): number {
    display.finish(rollout);
    return rollout.state === 'completed' ? 0 : 1;
  }
}
