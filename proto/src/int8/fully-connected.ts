// Integer-only fully connected layer, as TFLite Micro's reference kernel
// tensorflow/lite/kernels/internal/reference/integer_ops/fully_connected.h (FullyConnectedPerChannel):
// acc = Σ w[o, i] × (x[i] − inputZeroPoint) + bias[o] in int32, requantized per output channel, offset by the
// output zero point and clamped to the fused activation range.
import { multiplyByQuantizedMultiplier } from './fixed-point.js';
import type { FullyConnectedOp } from './graph.js';

/**
 * Runs one fully connected op over int8 codes; `output` receives one code per output channel.
 * @param inputZeroPoint zero point of `input`; `outputZeroPoint` that of `output`.
 */
export function fullyConnectedInt8(
  op: FullyConnectedOp,
  input: Int8Array,
  inputZeroPoint: number,
  output: Int8Array,
  outputZeroPoint: number,
): void {
  const outDepth = op.bias.length;
  const inDepth = op.weights.length / outDepth;
  const { weights, bias, multipliers, shifts, activationMin, activationMax } = op;
  const inputOffset = -inputZeroPoint;
  for (let o = 0; o < outDepth; o++) {
    const base = o * inDepth;
    let acc = 0;
    for (let i = 0; i < inDepth; i++) acc += weights[base + i] * (input[i] + inputOffset);
    acc = (acc + bias[o]) | 0; // int32 accumulator (wraps as TFLite's would; never reached by calibrated models)
    let v = multiplyByQuantizedMultiplier(acc, multipliers[o], shifts[o]) + outputZeroPoint;
    v = v < activationMin ? activationMin : v > activationMax ? activationMax : v;
    output[o] = v;
  }
}
