/**
 * The microcontroller fit of a model version (issue 9 item 4): per encoding and per MCU profile, the flash and tensor
 * arena it needs, whether it fits and an estimated latency — computed by proto's resource model from the version's
 * layers topology. A topology the model does not know yields no rows and the reason, never a failed request.
 */
import { ENCODINGS, MCU_PROFILES, isProtoError, mcuFitTable } from '@fedfleet/proto';
import Type, { type Static } from 'typebox';

export const McuFitRowSchema = Type.Object({
  profile: Type.String({ description: 'microcontroller profile: mcu-m4 | mcu-m7' }),
  encoding: Type.Enum(ENCODINGS),
  flashBytes: Type.Integer({ description: 'weights, biases, quantization parameters and graph' }),
  arenaBytes: Type.Integer({ description: 'TFLite Micro tensor arena: greedy-planned activations and scratch plus persistent state' }),
  profileFlashBytes: Type.Integer(),
  profileRamBytes: Type.Integer(),
  macs: Type.Integer({ description: 'multiply-accumulates per example' }),
  estLatencyMs: Type.Number({ description: 'macs × cycles per MAC ÷ clock (estimate)' }),
  fits: Type.Boolean(),
  shortfalls: Type.Array(Type.String(), { description: '"needs … KiB flash, profile has … KiB" per resource that is short' }),
});

export const McuFitSchema = Type.Object({
  rows: Type.Array(McuFitRowSchema),
  unsupported: Type.Union([Type.Null(), Type.Object({ code: Type.String(), message: Type.String() })], {
    description: 'why the topology has no rows (a layer the MCU resource model does not know), else null',
  }),
}, { description: 'flash, arena, fit and latency per encoding and MCU profile (proto/docs/mcu-resource-model.md)' });

export type McuFitView = Static<typeof McuFitSchema>;

export function mcuFitView(topologyJson: string): McuFitView {
  try {
    const rows = mcuFitTable(topologyJson, Object.values(MCU_PROFILES)).map((fit) => ({
      profile: fit.profile, encoding: fit.encoding, flashBytes: fit.flashBytes, arenaBytes: fit.arenaBytes,
      profileFlashBytes: fit.profileFlashBytes, profileRamBytes: fit.profileRamBytes, macs: fit.macs,
      estLatencyMs: fit.estLatencyMs, fits: fit.fits, shortfalls: fit.shortfalls,
    }));
    return { rows, unsupported: null };
  } catch (error) {
    if (isProtoError(error)) return { rows: [], unsupported: { code: error.code, message: error.message } };
    throw error;
  }
}
