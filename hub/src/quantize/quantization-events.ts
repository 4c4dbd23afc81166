/** Events of quantization jobs, on `hub.events` and `GET /v1/events` (augments HubEventMap). */
import type { CalibrationSource } from './quantization-repo.js';
import type { FleetEvalState } from './quantization-state.js';

/** How far a job got: devices asked, and of those, how many reports were accepted and how many rejected. */
interface Progress {
  devicesAsked: number;
  devicesReported: number;
  devicesRejected: number;
}

declare module '../events/hub-events.js' {
  interface HubEventMap {
    'quantization.started': Progress & {
      jobId: string; modelId: string; versionId: string; version: number; calibration: CalibrationSource; at: string;
    };
    /** A device answered: `accepted` = its statistics will be merged; else `code` (HUB_ERR_* or AGENT_ERR_*) says why not. */
    'quantization.device-reported': Progress & {
      jobId: string; deviceId: string; accepted: boolean; state: string; code: string | null; reason: string | null; at: string;
    };
    /**
     * The fleet evaluation of the job's int8 file ended (the job is done next): how it ended, devices asked and
     * evaluated, examples, the example-weighted accuracy and loss (null without results), and how many refused.
     */
    'quantization.evaluated': {
      jobId: string; versionId: string; state: FleetEvalState; devicesAsked: number; devices: number; examples: number;
      accuracy: number | null; loss: number | null; refused: number; at: string;
    };
    'quantization.completed': Progress & { jobId: string; versionId: string; exampleCount: number; sha256: string; sizeBytes: number; at: string };
    /** `errorCode` is the HUB_ERR_* code of `error`: branch on it, not on the text. */
    'quantization.failed': Progress & { jobId: string; versionId: string; errorCode: string; error: string; at: string };
  }
}

export {};
