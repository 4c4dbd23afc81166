/**
 * Events of rollouts, on `hub.events` and `GET /v1/events` (augments HubEventMap). Each is emitted after the change
 * it announces was committed; `rollout.wave` and `rollout.target` carry the wave's counts so a watcher can draw
 * progress without asking the API.
 */
import type { RolloutState, TargetState, WaveState } from './rollout-state.js';
import type { TargetCountsJson } from './schemas.js';

declare module '../events/hub-events.js' {
  interface HubEventMap {
    'rollout.created': {
      rolloutId: string; modelId: string; versionId: string; version: number; selector: string; targets: number; waves: number; at: string;
    };
    /** `errorCode` is the HUB_ERR_* code of `reason` (aborted, superseded): branch on it, not on the text. */
    'rollout.state': { rolloutId: string; state: RolloutState; currentWave: number; errorCode: string | null; reason: string | null; at: string };
    'rollout.wave': {
      rolloutId: string; wave: number; waves: number; state: WaveState; size: number; healthy: number; failed: number; counts: TargetCountsJson; at: string;
    };
    /** `from` is null for a device that joined the rollout after its creation (continuous deployment). */
    'rollout.target': {
      rolloutId: string; deviceId: string; wave: number; from: TargetState | null; state: TargetState; errorCode: string | null; reason: string | null;
      counts: TargetCountsJson; at: string;
    };
  }
}

export {};
