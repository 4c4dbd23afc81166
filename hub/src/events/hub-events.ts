/**
 * The hub's typed events, decorated on the hub as `hub.events` and streamed at `GET /v1/events`. Later plugins add
 * their own events by augmenting {@link HubEventMap}:
 *
 * ```ts
 * declare module '../events/hub-events.js' {
 *   interface HubEventMap { 'round.committed': { roundId: string; at: string } }
 * }
 * ```
 */
import { TypedEmitter } from './typed-emitter.js';

/**
 * Every event of the hub, by name. Empty here: each capability declares its own events in its own file (fleet:
 * fleet/fleet-events.ts, rounds: rounds/round-events.ts), so this infrastructure imports no domain code.
 */
export interface HubEventMap {}

export type HubEventName = keyof HubEventMap & string;

export class HubEvents extends TypedEmitter<HubEventMap> {}
