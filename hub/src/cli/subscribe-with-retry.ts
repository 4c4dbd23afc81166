/**
 * The reconnect step shared by the CLI's watches (`rollouts watch`, `fleet health --watch`): subscribe to the hub's
 * event stream, and while the hub cannot be reached wait and try again, up to a limit.
 */
import { CliError } from './cli-error.js';
import { subscribeToEvents, type StreamedEvent } from './event-stream.js';
import type { HubClient } from './hub-client.js';

export interface SubscribeRetryOptions {
  /** Wait between attempts. */
  retryMs: number;
  /** Consecutive failed attempts before giving up with the last error (HUB_ERR_HUB_UNREACHABLE). */
  maxRetries: number;
  /** Ends the attempts (and the waits between them) early: the watch was stopped. */
  stop?: AbortSignal;
}

/** Whether `error` says the hub could not be reached, the one failure a watch outlives. */
export const isHubUnreachable = (error: unknown): boolean => error instanceof CliError && error.code === 'HUB_ERR_HUB_UNREACHABLE';

/** Resolves after `ms`, or as soon as `signal` aborts. */
export const sleepMs = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });

/**
 * The subscription once the hub accepted it; undefined when `stop` aborted first. Any failure other than an
 * unreachable hub, or more than `maxRetries` of those in a row, is thrown.
 */
export async function subscribeWithRetry(
  client: HubClient,
  names: readonly string[],
  connection: AbortSignal,
  { retryMs, maxRetries, stop }: SubscribeRetryOptions,
): Promise<AsyncGenerator<StreamedEvent> | undefined> {
  for (let failures = 0; ; ) {
    try {
      return await subscribeToEvents(client, names, connection);
    } catch (error) {
      if (stop?.aborted) return undefined;
      if (!isHubUnreachable(error) || ++failures > maxRetries) throw error;
      await sleepMs(retryMs, stop);
      if (stop?.aborted) return undefined;
    }
  }
}
