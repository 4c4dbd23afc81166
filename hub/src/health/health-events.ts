/**
 * Events of alerts, on `hub.events` and `GET /v1/events` (augments HubEventMap), each emitted after the change it
 * announces was committed; the alert webhook (alert-webhook.ts) posts the same payloads.
 */
import type { AlertJson } from './schemas.js';

declare module '../events/hub-events.js' {
  interface HubEventMap {
    'alert.opened': { alert: AlertJson; at: string };
    'alert.resolved': { alert: AlertJson; at: string };
    'alert.acknowledged': { alert: AlertJson; at: string };
  }
}

/** The alert events, in the order an alert can go through them. */
export const ALERT_EVENTS = ['alert.opened', 'alert.acknowledged', 'alert.resolved'] as const;
export type AlertEventName = (typeof ALERT_EVENTS)[number];
