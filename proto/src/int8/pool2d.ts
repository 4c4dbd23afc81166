// Integer-only pooling, NHWC, batch 1, as TFLite Micro's reference kernels
// tensorflow/lite/kernels/internal/reference/integer_ops/pooling.h (MaxPool, AveragePool): only taps inside the
// image count; input and output share quantization, so no requantization. The average is rounded to nearest,
// half away from zero, with C++ truncating integer division: (acc ± count/2) / count.
import { paddingBefore, type Pool2dOp } from './graph.js';

/** Runs a max or average pool op. `inputShape` [h, w, c], `outputShape` [outH, outW, c]. */
export function pool2dInt8(
  op: Pool2dOp,
  input: Int8Array,
  inputShape: readonly number[],
  output: Int8Array,
  outputShape: readonly number[],
): void {
  const [inH, inW, depth] = inputShape;
  const [outH, outW] = outputShape;
  const padTop = paddingBefore(op.padding, inH, op.filterH, op.strideH);
  const padLeft = paddingBefore(op.padding, inW, op.filterW, op.strideW);
  const isMax = op.kind === 'maxPool2d';
  const { activationMin, activationMax } = op;
  for (let oy = 0; oy < outH; oy++) {
    const inY0 = oy * op.strideH - padTop;
    const yStart = inY0 < 0 ? 0 : inY0;
    const yEnd = Math.min(inY0 + op.filterH, inH);
    for (let ox = 0; ox < outW; ox++) {
      const inX0 = ox * op.strideW - padLeft;
      const xStart = inX0 < 0 ? 0 : inX0;
      const xEnd = Math.min(inX0 + op.filterW, inW);
      const count = (yEnd - yStart) * (xEnd - xStart);
      for (let c = 0; c < depth; c++) {
        let acc = isMax ? -128 : 0;
        for (let y = yStart; y < yEnd; y++) {
          for (let x = xStart; x < xEnd; x++) {
            const v = input[(y * inW + x) * depth + c];
            if (isMax) { if (v > acc) acc = v; } else acc += v;
          }
        }
        if (!isMax && count > 0) {
          // Integer division of int32 operands: (a / b) | 0 is C++'s truncating quotient (|a| < 2^31).
          acc = acc > 0 ? ((acc + (count >> 1)) / count) | 0 : ((acc - (count >> 1)) / count) | 0;
        }
        acc = acc < activationMin ? activationMin : acc > activationMax ? activationMax : acc;
        output[(oy * outW + ox) * depth + c] = acc;
      }
    }
  }
}
