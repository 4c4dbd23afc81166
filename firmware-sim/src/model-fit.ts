import { AgentError, type CommandContext } from '@fedfleet/agent';
import type { Int8ModelAdmission } from '@fedfleet/agent/training';
import {
  ProtoError, checkFit, estimateMcuFit, mcuGraphOfInt8, type McuFit, type Encoding, type McuModel, type McuProfile,
} from '@fedfleet/proto';
import type { SimProfile } from './profiles.js';

/**
 * The check a simulated microcontroller makes before it runs a model (DESIGN §4: "model fits the device profile"):
 * flash for the model, RAM for TensorFlow Lite Micro's tensor arena. Devices run it on every int8 `.tflite` they
 * are told to evaluate ({@link mcuInt8Admission}); the hub shows the same numbers per profile (`mcuFit`). There is
 * no deploy path yet: the rollout work calls this where a device accepts a pushed model.
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
 * How a simulated microcontroller admits a decoded int8 model before evaluating it: the model it received (the
 * Int8Graph of the .tflite, not the topology it came from) must fit its flash and arena, else the task is refused
 * with AGENT_ERR_MODEL_TOO_LARGE and the numbers. A model that fits is logged with its estimated latency per
 * inference and passed to `onFit`. Undefined for a profile that is not a microcontroller (nothing to judge).
 */
export function mcuInt8Admission(profile: SimProfile, onFit?: (fit: McuFit, ctx: CommandContext) => void): Int8ModelAdmission | undefined {
  const cyclesPerMac = profile.cyclesPerMac;
  if (!cyclesPerMac) return undefined;
  return (graph, ctx) => {
    const fit = estimateMcuFit(mcuGraphOfInt8(graph), mcuProfileOf(profile, cyclesPerMac), 'int8');
    if (!fit.fits) return new AgentError('AGENT_ERR_MODEL_TOO_LARGE', `int8 model on ${profile.kind}: ${fit.shortfalls.join('; ')}`);
    ctx.log.info({ commandId: ctx.commandId, profile: profile.kind, estLatencyMs: fit.estLatencyMs, macs: fit.macs, arenaBytes: fit.arenaBytes, flashBytes: fit.flashBytes }, 'int8 model fits');
    onFit?.(fit, ctx);
    return undefined;
  };
}
