/**
 * Events of per-device model quality (issue 11 item 2), on `hub.events` and `GET /v1/events` (augments HubEventMap).
 * Each is emitted after the sample or measure it announces was stored; hub/docs/quality.md describes the sources.
 */
export const QUALITY_SOURCES = ['federated-eval', 'self-test', 'feedback'] as const;
/** Where an accuracy sample came from: a round's federated evaluation, a deploy's self-test, labelled serving traffic. */
export type QualitySource = (typeof QUALITY_SOURCES)[number];

declare module '../events/hub-events.js' {
  interface HubEventMap {
    /** One accuracy sample of a device for a version; `baseline` is the device's baseline for that version (0..1). */
    'device.quality': {
      deviceId: string; modelId: string | null; versionId: string; source: QualitySource; accuracy: number; examples: number;
      baseline: number | null; at: string;
    };
    /** How far the device's recent inputs moved from its training inputs (PSI and binned KS, drift-measures.ts). */
    'device.input-drift': { deviceId: string; psi: number; ks: number; examples: number; baselineExamples: number; at: string };
  }
}
