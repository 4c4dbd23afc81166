/** Events of the closed loop, on `hub.events` and `GET /v1/events` (augments HubEventMap), emitted after the action was stored. */
import type { LoopActionJson } from './loop-schemas.js';

declare module '../events/hub-events.js' {
  interface HubEventMap {
    'loop.action': { policyId: string; action: LoopActionJson; at: string };
  }
}

export {};
