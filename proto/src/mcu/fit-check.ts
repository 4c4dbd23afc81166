import { ProtoError } from '../errors.js';
import { estimateArena, type ArenaEstimate } from './arena-estimate.js';
import { estimateFlash, type FlashEstimate } from './flash-estimate.js';
import { parseLayerGraph, type McuGraph } from './layer-graph.js';
import { ENCODINGS, type Encoding } from '../encoding.js';
import { MCU_PROFILES, type McuProfile } from './mcu-profiles.js';

/** What a model needs on one microcontroller profile in one format, and whether it fits. */
export interface McuFit {
  profile: string;
  /** The model's number format, from the one encoding vocabulary (proto/src/encoding.ts). */
  encoding: Encoding;
  flashBytes: number;
  arenaBytes: number;
  profileFlashBytes: number;
  profileRamBytes: number;
  macs: number;
  /** macs × cycles per MAC ÷ clock; an estimate, see proto/docs/mcu-resource-model.md. */
  estLatencyMs: number;
  fits: boolean;
  /** Empty when it fits; otherwise `needs … KiB flash, profile has … KiB` for each resource that is short. */
  shortfalls: string[];
  flash: FlashEstimate;
  arena: ArenaEstimate;
}

/** A model as a layers topology (object or JSON text) or an already parsed graph. */
export type McuModel = McuGraph | string | object;

function toGraph(model: McuModel): McuGraph {
  if (typeof model === 'object' && model !== null && 'ops' in model && 'inputShape' in model) return model as McuGraph;
  return parseLayerGraph(model);
}

/** `310 KiB` or `195.3 KiB` with the exact byte count, so a refusal can be checked by hand. */
export function formatKiB(bytes: number): string {
  const kib = bytes / 1024;
  return `${Number.isInteger(kib) ? kib : kib.toFixed(1)} KiB (${bytes} bytes)`;
}

export function estimateMcuFit(model: McuModel, profile: McuProfile, format: Encoding = 'int8'): McuFit {
  const graph = toGraph(model);
  const flash = estimateFlash(graph, format);
  const arena = estimateArena(graph, format);
  const macs = graph.ops.reduce((sum, op) => sum + op.macs, 0);
  const shortfalls: string[] = [];
  if (flash.totalBytes > profile.flashBytes) shortfalls.push(`needs ${formatKiB(flash.totalBytes)} flash, profile has ${formatKiB(profile.flashBytes)}`);
  // The arena must fit in SRAM; the firmware's own RAM is not modelled, so this is the most optimistic check.
  if (arena.totalBytes > profile.ramBytes) shortfalls.push(`needs ${formatKiB(arena.totalBytes)} arena (RAM), profile has ${formatKiB(profile.ramBytes)}`);
  return {
    profile: profile.name, encoding: format, flashBytes: flash.totalBytes, arenaBytes: arena.totalBytes,
    profileFlashBytes: profile.flashBytes, profileRamBytes: profile.ramBytes, macs,
    estLatencyMs: (macs * profile.cyclesPerMac[format]) / (profile.cpuMhz * 1000),
    fits: shortfalls.length === 0, shortfalls, flash, arena,
  };
}

/**
 * The fit of `model` on `profile`, or a PROTO_ERR_DOES_NOT_FIT error whose message names every resource that is
 * short with both numbers (`needs 310 KiB arena (RAM), profile has 256 KiB`).
 */
export function checkFit(model: McuModel, profile: McuProfile, format: Encoding = 'int8'): McuFit {
  const fit = estimateMcuFit(model, profile, format);
  if (!fit.fits) throw new ProtoError('PROTO_ERR_DOES_NOT_FIT', `${format} model on ${profile.name}: ${fit.shortfalls.join('; ')}`);
  return fit;
}

/** Every encoding on every built-in MCU profile: what `fedfleet models show` prints. */
export function mcuFitTable(model: McuModel, profiles: readonly McuProfile[] = Object.values(MCU_PROFILES)): McuFit[] {
  const graph = toGraph(model);
  return ENCODINGS.flatMap((format) => profiles.map((profile) => estimateMcuFit(graph, profile, format)));
}
