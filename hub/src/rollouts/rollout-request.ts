/**
 * What `POST /v1/rollouts` accepts, its defaults (one place: ROLLOUT_DEFAULTS), and the checks that refuse a request
 * before anything is stored (DESIGN §9). Waves are cumulative: wave k covers the first `percent` % (or `devices`) of
 * the rollout's targets; the last wave always covers every target.
 */
import { ENCODINGS, type Encoding } from '@fedfleet/proto';
import Type, { type Static } from 'typebox';
import { HubError } from '../errors.js';
import { parseSelector } from '../fleet/label-selector.js';

export const ROLLOUT_FORMATS = ['tfjs-layers', 'tflite'] as const;
export type RolloutFormat = (typeof ROLLOUT_FORMATS)[number];

export const MAX_WAVES = 20;

export const ROLLOUT_DEFAULTS = Object.freeze({
  format: 'tfjs-layers' as RolloutFormat,
  /** Per format: a tflite bundle is the version's int8 model (its latest quantization). */
  encoding: Object.freeze({ 'tfjs-layers': 'fp32', tflite: 'int8' } as const satisfies Record<RolloutFormat, Encoding>),
  selector: '',
  waves: Object.freeze([{ percent: 5 }, { percent: 25 }, { percent: 100 }]),
  successThreshold: 0.9,
  errorThreshold: 0.1,
  soakSec: 0,
  maxAccuracyDropPts: 2,
  maxLatencyFactor: 2,
  deviceTimeoutSec: 300,
  continuous: true,
});

const ShadowRequestSchema = Type.Object({
  minInferences: Type.Integer({
    minimum: 0, maximum: 1_000_000_000, description: 'inferences each shadowing device reports (champion and challenger on the same inputs) before the wave is judged',
  }),
  maxAccuracyDropPts: Type.Optional(Type.Number({
    minimum: 0, maximum: 100, description: 'points of labelled accuracy the challenger may lose against the champion; default gate.maxAccuracyDropPts',
  })),
}, { additionalProperties: false });

export const WaveRequestSchema = Type.Object({
  percent: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100, description: 'cumulative share of the targets this wave reaches' })),
  devices: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'cumulative number of targets this wave reaches' })),
  successThreshold: Type.Optional(Type.Number({
    minimum: 0, maximum: 1, description: `healthy / answered devices the wave needs to pass (default ${ROLLOUT_DEFAULTS.successThreshold})`,
  })),
  errorThreshold: Type.Optional(Type.Number({
    minimum: 0, maximum: 1, description: `failed / wave devices above which the rollout aborts (default ${ROLLOUT_DEFAULTS.errorThreshold})`,
  })),
  soakSec: Type.Optional(Type.Number({ minimum: 0, maximum: 2_592_000, description: 'how long a passed wave is watched before the next one starts (default 0)' })),
  shadow: Type.Optional(ShadowRequestSchema),
}, { additionalProperties: false });

export const GateRequestSchema = Type.Object({
  maxAccuracyDropPts: Type.Optional(Type.Number({
    minimum: 0, maximum: 100, description: `points of self-test accuracy a device may lose against the version it ran before (default ${ROLLOUT_DEFAULTS.maxAccuracyDropPts})`,
  })),
  maxLatencyFactor: Type.Optional(Type.Number({
    minimum: 1, maximum: 1000, description: `largest self-test p95 latency ratio new / before (default ${ROLLOUT_DEFAULTS.maxLatencyFactor})`,
  })),
}, { additionalProperties: false });

export const RolloutRequestSchema = Type.Object({
  model: Type.String({ minLength: 1, maxLength: 128, description: 'model id or name' }),
  version: Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000_000 }), Type.String({ minLength: 1, maxLength: 64 })], {
    description: 'version number, id or "latest"',
  }),
  format: Type.Optional(Type.Enum(ROLLOUT_FORMATS, { description: 'bundle payload: tfjs-layers (default) or tflite' })),
  encoding: Type.Optional(Type.Enum(ENCODINGS, { description: 'default fp32 for tfjs-layers, int8 for tflite' })),
  selector: Type.Optional(Type.String({ maxLength: 2000, description: 'label selector of the target devices (default: every device)' })),
  waves: Type.Optional(Type.Array(WaveRequestSchema, { minItems: 1, maxItems: MAX_WAVES, description: 'default 5 % → 25 % → 100 %' })),
  gate: Type.Optional(GateRequestSchema),
  deviceTimeoutSec: Type.Optional(Type.Number({
    minimum: 1, maximum: 604_800, description: `how long an online device may take to answer before it counts as failed (default ${ROLLOUT_DEFAULTS.deviceTimeoutSec})`,
  })),
  continuous: Type.Optional(Type.Boolean({ description: 'devices that join the selector later get the version too (default true)' })),
}, { additionalProperties: false });

export type RolloutRequest = Static<typeof RolloutRequestSchema>;
type WaveRequest = Static<typeof WaveRequestSchema>;

/** A wave with its defaults filled in. */
export interface WaveConfig {
  percent: number | null;
  devices: number | null;
  successThreshold: number;
  errorThreshold: number;
  soakSec: number;
  shadow: { minInferences: number; maxAccuracyDropPts: number } | null;
}

export interface GateConfig {
  maxAccuracyDropPts: number;
  maxLatencyFactor: number;
}

/** A rollout's settings, resolved from the request (defaults filled in, checked). */
export interface RolloutConfig {
  format: RolloutFormat;
  encoding: Encoding;
  selector: string;
  waves: WaveConfig[];
  gate: GateConfig;
  deviceTimeoutSec: number;
  continuous: boolean;
}

function badRequest(message: string): HubError {
  return new HubError('HUB_ERR_ROLLOUT_BAD_REQUEST', { message });
}

/** Each wave names exactly one of percent and devices, and each kind increases from wave to wave. */
function checkWaves(waves: readonly WaveRequest[]): void {
  let lastPercent = 0;
  let lastDevices = 0;
  for (const [i, wave] of waves.entries()) {
    const has = [wave.percent !== undefined, wave.devices !== undefined].filter(Boolean).length;
    if (has !== 1) throw badRequest(`wave ${i + 1} must give exactly one of percent and devices`);
    if (wave.percent !== undefined) {
      if (wave.percent <= lastPercent) throw badRequest(`wave ${i + 1}: percent ${wave.percent} does not increase on ${lastPercent} (waves are cumulative)`);
      lastPercent = wave.percent;
    } else {
      if (wave.devices! <= lastDevices) throw badRequest(`wave ${i + 1}: devices ${wave.devices} does not increase on ${lastDevices} (waves are cumulative)`);
      lastDevices = wave.devices!;
    }
  }
}

/**
 * The settings a request runs with. Refuses, before anything is stored, a selector that does not parse
 * (HUB_ERR_BAD_SELECTOR) and waves that are not cumulative (HUB_ERR_ROLLOUT_BAD_REQUEST); numbers are bounded by
 * RolloutRequestSchema where the request enters.
 */
export function rolloutConfigOf(request: Omit<RolloutRequest, 'model' | 'version'>): RolloutConfig {
  const D = ROLLOUT_DEFAULTS;
  const format = request.format ?? D.format;
  const selector = request.selector ?? D.selector;
  parseSelector(selector);
  const waves: readonly WaveRequest[] = request.waves ?? D.waves;
  checkWaves(waves);
  const gate: GateConfig = {
    maxAccuracyDropPts: request.gate?.maxAccuracyDropPts ?? D.maxAccuracyDropPts,
    maxLatencyFactor: request.gate?.maxLatencyFactor ?? D.maxLatencyFactor,
  };
  return {
    format,
    encoding: request.encoding ?? D.encoding[format],
    selector,
    waves: waves.map((w) => ({
      percent: w.percent ?? null,
      devices: w.devices ?? null,
      successThreshold: w.successThreshold ?? D.successThreshold,
      errorThreshold: w.errorThreshold ?? D.errorThreshold,
      soakSec: w.soakSec ?? D.soakSec,
      shadow: w.shadow ? { minInferences: w.shadow.minInferences, maxAccuracyDropPts: w.shadow.maxAccuracyDropPts ?? gate.maxAccuracyDropPts } : null,
    })),
    gate,
    deviceTimeoutSec: request.deviceTimeoutSec ?? D.deviceTimeoutSec,
    continuous: request.continuous ?? D.continuous,
  };
}
