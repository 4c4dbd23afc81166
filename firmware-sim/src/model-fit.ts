import { AgentError, type CommandContext, type Int8LoadAdmission } from '@fedfleet/agent';
import type { Int8ModelAdmission } from '@fedfleet/agent/training';
import {
  ProtoError, checkFit, estimateMcuFit, mcuGraphOfInt8, type BundleManifest, type Encoding, type Int8Graph, type McuFit,
  type McuModel, type McuProfile,
} from '@fedfleet/proto';
import type { SimProfile } from './profiles.js';

/**
 * The check a simulated microcontroller makes before it runs a model (DESIGN §4: "model fits the device profile"):
 * flash for the model, RAM for TensorFlow Lite Micro's tensor arena. Devices run it on every int8 `.tflite` they
 * are told to evaluate ({@link mcuInt8Admission}) or to serve ({@link mcuInt8LoadAdmission}); the hub shows the same
 * numbers per profile (`mcuFit`).
 * Returns undefined for a profile that is not a microcontroller.
 * @throws ProtoError PROTO_ERR_DOES_NOT_FIT with the numbers (`needs 310 KiB arena (RAM), profile has 256 KiB`),
 *   PROTO_ERR_UNSUPPORTED_LAYER / PROTO_ERR_BAD_TOPOLOGY for a topology the device cannot run.
 */
export function checkModelFits(model: McuModel, profile: SimProfile, format: Encoding = 'int8'): McuFit | undefined {
  // Linux-class profiles (Raspberry Pi) run TensorFlow.js, not TFLite Micro: the arena model does not apply.
  if (!profile.cyclesPerMac) return undefined;
  // Microcontroller profiles run int8 only: a float model does not run there, however small.
  if (profile.int8Only && format !== 'int8') {
    throw new ProtoError('PROTO_ERR_DOES_NOT_FIT', `${format} model on ${profile.kind}: profile runs int8 models only`);
  }
  return checkFit(model, mcuProfileOf(profile, profile.cyclesPerMac), format);
}

function mcuProfileOf(profile: SimProfile, cyclesPerMac: McuProfile['cyclesPerMac']): McuProfile {
  return { name: profile.kind, ramBytes: profile.ramBytes, flashBytes: profile.flashBytes, cpuMhz: profile.cpuMhz, cyclesPerMac };
}

/**
 * How a simulated microcontroller judges a decoded int8 model (the Int8Graph of the .tflite it received, not the
 * topology it came from, nor what a manifest claims): it must fit the profile's flash and tensor arena.
 * @returns the fit, or the AgentError AGENT_ERR_MODEL_TOO_LARGE with the numbers (`int8 model on mcu-m4: needs
 *   310 KiB arena (RAM), profile has 256 KiB`).
 */
function judgeInt8Graph(graph: Int8Graph, profile: SimProfile, cyclesPerMac: McuProfile['cyclesPerMac']): McuFit | AgentError {
  const fit = estimateMcuFit(mcuGraphOfInt8(graph), mcuProfileOf(profile, cyclesPerMac), 'int8');
  return fit.fits ? fit : new AgentError('AGENT_ERR_MODEL_TOO_LARGE', `int8 model on ${profile.kind}: ${fit.shortfalls.join('; ')}`);
}

/**
 * How a simulated microcontroller admits a decoded int8 model before evaluating it ({@link judgeInt8Graph}); too
 * big → the task is refused with AGENT_ERR_MODEL_TOO_LARGE and the numbers. A model that fits is logged with its
 * estimated latency per inference and passed to `onFit`. Undefined for a profile that is not a microcontroller
 * (nothing to judge).
 */
export function mcuInt8Admission(profile: SimProfile, onFit?: (fit: McuFit, ctx: CommandContext) => void): Int8ModelAdmission | undefined {
  const cyclesPerMac = profile.cyclesPerMac;
  if (!cyclesPerMac) return undefined;
  return (graph, ctx) => {
    const fit = judgeInt8Graph(graph, profile, cyclesPerMac);
    if (fit instanceof AgentError) return fit;
    ctx.log.info({ commandId: ctx.commandId, profile: profile.kind, estLatencyMs: fit.estLatencyMs, macs: fit.macs, arenaBytes: fit.arenaBytes, flashBytes: fit.flashBytes }, 'int8 model fits');
    onFit?.(fit, ctx);
    return undefined;
  };
}

/**
 * The same judgement where the model store loads a bundle's int8 payload (agent's Int8LoadAdmission): a model that
 * does not fit is refused before it ever serves; one that fits is passed to `onFit` with its manifest (the sim
 * uses its estimated latency as the latency of each inference). Undefined for a profile that is not a microcontroller.
 */
export function mcuInt8LoadAdmission(profile: SimProfile, onFit?: (fit: McuFit, manifest: BundleManifest) => void): Int8LoadAdmission | undefined {
  const cyclesPerMac = profile.cyclesPerMac;
  if (!cyclesPerMac) return undefined;
  return (graph, manifest) => {
    const fit = judgeInt8Graph(graph, profile, cyclesPerMac);
    if (fit instanceof AgentError) return fit;
    onFit?.(fit, manifest);
    return undefined;
  };
}
