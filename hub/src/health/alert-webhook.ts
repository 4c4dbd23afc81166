/**
 * The optional alert webhook (hub/docs/health.md#webhook): POSTs `{ event, alert }` JSON for every alert event to
 * `alertWebhookUrl`, signed with HMAC-SHA256 of the exact body bytes in `X-Fedfleet-Signature: sha256=<hex>` when
 * `alertWebhookSecret` is set (the scheme GitHub webhooks use). Deliveries leave a bounded queue one at a time, in
 * order; a failed one is tried again after a backoff (through the injected clock), at most {@link MAX_ATTEMPTS}
 * times; a full queue drops the newest. Nothing here ever blocks or throws into the engine: outcomes are logged
 * and counted (`fedfleet_alert_webhook_deliveries_total{outcome}`).
 */
import { createHmac } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { HubLogger } from '../logger.js';
import type { Counter } from '../metrics/metrics-registry.js';
import type { AlertEventName } from './health-events.js';
import type { AlertJson } from './schemas.js';

export const MAX_ATTEMPTS = 3;
export const MAX_QUEUED = 1000;
/** Wait before the second attempt; doubled before each further one. */
export const FIRST_BACKOFF_MS = 1000;
/** A receiver that has not answered within this counts as a failed attempt. */
export const REQUEST_TIMEOUT_MS = 10_000;
export const SIGNATURE_HEADER = 'x-fedfleet-signature';

export interface AlertWebhookOptions {
  url: string;
  secret?: string;
  clock: Clock;
  log: HubLogger;
  /** By outcome: `delivered`, `retried`, `failed` (gave up), `dropped` (queue full). */
  deliveries: Counter;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

export interface AlertWebhook {
  /** Queues one delivery; returns at once. */
  send(event: AlertEventName, alert: AlertJson): void;
  /** Stops delivering; queued deliveries are dropped. */
  close(): void;
}

/** `sha256=<hex>` of `body` under `secret`. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function createAlertWebhook(options: AlertWebhookOptions): AlertWebhook {
  const { url, secret, clock, log, deliveries } = options;
  const doFetch = options.fetch ?? fetch;
  const queue: Array<{ event: AlertEventName; body: string; attempts: number }> = [];
  let busy = false;
  let closed = false;

  async function attempt(item: (typeof queue)[number]): Promise<boolean> {
    try {
      const response = await doFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json', 'user-agent': 'fedfleet-hub', 'x-fedfleet-event': item.event,
          ...(secret ? { [SIGNATURE_HEADER]: signBody(secret, item.body) } : {}),
        },
        body: item.body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (response.ok) return true;
      log.warn({ event: item.event, status: response.status, attempt: item.attempts }, 'alert webhook refused');
    } catch (error) {
      log.warn({ event: item.event, err: error, attempt: item.attempts }, 'alert webhook unreachable');
    }
    return false;
  }

  function pump(): void {
    if (busy || closed || queue.length === 0) return;
    busy = true;
    const item = queue[0]!;
    item.attempts++;
    void attempt(item).then((ok) => {
      if (closed) return;
      if (ok || item.attempts >= MAX_ATTEMPTS) {
        queue.shift();
        deliveries.inc({ outcome: ok ? 'delivered' : 'failed' });
        if (!ok) log.error({ event: item.event, attempts: item.attempts }, 'alert webhook delivery given up');
        busy = false;
        pump();
        return;
      }
      deliveries.inc({ outcome: 'retried' });
      clock.setTimeout(() => {
        busy = false;
        pump();
      }, FIRST_BACKOFF_MS * 2 ** (item.attempts - 1));
    });
  }

  return {
    send(event, alert) {
      if (closed) return;
      if (queue.length >= MAX_QUEUED) {
        deliveries.inc({ outcome: 'dropped' });
        log.warn({ event, alertId: alert.id }, 'alert webhook queue full, delivery dropped');
        return;
      }
      queue.push({ event, body: JSON.stringify({ event, alert }), attempts: 0 });
      pump();
    },
    close() {
      closed = true;
      queue.length = 0;
    },
  };
}
