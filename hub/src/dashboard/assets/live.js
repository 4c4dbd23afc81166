// Live updates: one EventSource on `/v1/events` (the admin token as `?token=`, since EventSource cannot send
// headers — hub/src/events/events-plugin.ts). Each hub event reaches the listeners registered for its name; the
// app re-renders the page it shows, debounced, so a burst of telemetry is one re-fetch.

/** The hub's event names the dashboard listens to (hub/docs/http-api.md#events). */
export const LIVE_EVENTS = [
  'device.online', 'device.offline', 'device.enrolled', 'device.relabelled', 'device.revoked', 'telemetry',
  'device.quality', 'device.input-drift',
  'round.state', 'round.progress', 'round.committed', 'campaign.state',
  'rollout.created', 'rollout.state', 'rollout.wave', 'rollout.target',
  'alert.opened', 'alert.resolved', 'alert.acknowledged',
];

const RECONNECT_MS = 3000;

export class LiveEvents {
  constructor(onState) {
    this.onState = onState;
    this.listeners = new Set();
    this.source = null;
    this.retry = null;
  }

  /** `listener(name, payload)` for every event; returns the function that removes it. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  connect(token) {
    this.close();
    if (!token) return;
    const source = new EventSource(`/v1/events?token=${encodeURIComponent(token)}&types=${LIVE_EVENTS.join(',')}`);
    this.source = source;
    this.onState('connecting');
    source.addEventListener('open', () => this.onState('live'));
    for (const name of LIVE_EVENTS) {
      source.addEventListener(name, (message) => {
        let payload = null;
        try {
          payload = JSON.parse(message.data);
        } catch {
          return;
        }
        for (const listener of this.listeners) listener(name, payload);
      });
    }
    source.addEventListener('error', () => {
      // A refused or lost stream (EventSource gives up on a non-200 answer): try again, the token may be new.
      if (source.readyState !== EventSource.CLOSED) return this.onState('reconnecting');
      this.onState('disconnected');
      this.retry = setTimeout(() => this.connect(token), RECONNECT_MS);
    });
  }

  close() {
    clearTimeout(this.retry);
    this.source?.close();
    this.source = null;
  }
}

/** `fn` once, `waitMs` after the last of a burst of calls. */
export function debounce(fn, waitMs) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, waitMs);
  };
}
