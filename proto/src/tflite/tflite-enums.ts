// fedfleet's names for fused activations and padding ↔ the TFLite schema's enum values, in one place for the
// encoders and the decoder.
import type { Padding } from '../int8/graph.js';
import type { FusedActivation } from '../int8/params.js';
import { ActivationFunctionType, Padding as TflitePadding } from '../../generated/tflite/tflite-schema.js';

const ACTIVATIONS: Readonly<Record<FusedActivation, ActivationFunctionType>> = {
  none: ActivationFunctionType.NONE,
  relu: ActivationFunctionType.RELU,
  relu6: ActivationFunctionType.RELU6,
};

const PADDINGS: Readonly<Record<Padding, TflitePadding>> = { same: TflitePadding.SAME, valid: TflitePadding.VALID };

export function toTfliteActivation(activation: FusedActivation): ActivationFunctionType {
  return ACTIVATIONS[activation];
}

/** The fused activation for a schema value, or null for one the int8 kernels do not implement (TANH, …). */
export function fromTfliteActivation(value: number): FusedActivation | null {
  const found = (Object.keys(ACTIVATIONS) as FusedActivation[]).find((name) => ACTIVATIONS[name] === value);
  return found ?? null;
}

export function toTflitePadding(padding: Padding): TflitePadding {
  return PADDINGS[padding];
}

export function fromTflitePadding(value: number): Padding | null {
  return value === TflitePadding.SAME ? 'same' : value === TflitePadding.VALID ? 'valid' : null;
}
