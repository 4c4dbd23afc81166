import { ProtoError, checkFit, type McuFit, type Encoding, type McuModel, type McuProfile } from '@fedfleet/proto';
import type { SimProfile } from './profiles.js';

/**
 * The check a simulated microcontroller makes before it accepts a model (DESIGN §4: "model fits the device
 * profile"): flash for the model, RAM for TensorFlow Lite Micro's tensor arena. firmware-sim has no deploy path
 * yet; the rollout work calls this where a device accepts a pushed model.
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
  const mcu: McuProfile = { name: profile.kind, ramBytes: profile.ramBytes, flashBytes: profile.flashBytes, cpuMhz: profile.cpuMhz, cyclesPerMac: profile.cyclesPerMac };
  return checkFit(model, mcu, format);
}
