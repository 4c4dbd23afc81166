/** Events of federated rounds, on `hub.events` and `GET /v1/events` (augments HubEventMap). */
import type { CampaignState, RoundState } from './round-state.js';

declare module '../events/hub-events.js' {
  interface HubEventMap {
    /** `errorCode` is the HUB_ERR_* code of `error`: branch on it, not on the text. */
    'campaign.state': { campaignId: string; state: CampaignState; error: string | null; errorCode: string | null; at: string };
    'round.state': {
      campaignId: string; roundId: string; number: number; state: RoundState; error: string | null; errorCode: string | null; at: string;
    };
    'round.progress': { campaignId: string; roundId: string; number: number; updates: number; target: number; selected: number; pending: number; at: string };
    'round.committed': { campaignId: string; roundId: string; number: number; versionId: string; accuracy: number | null; loss: number | null; at: string };
    'round.update-rejected': { roundId: string; deviceId: string; code: string; at: string };
    'round.device-progress': { roundId: string; deviceId: string; phase: string; fraction: number; epoch: number; epochs: number; at: string };
  }
}

export {};
