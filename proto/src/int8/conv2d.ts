// Integer-only 2-D convolution, NHWC, as TFLite Micro's reference kernel
// tensorflow/lite/kernels/internal/reference/integer_ops/conv.h (ConvPerChannel), dilation 1, batch 1:
// taps outside the image are skipped (implicit zero padding in real terms, i.e. the input zero point), the int32
// accumulator is requantized per output channel, offset by the output zero point and clamped.
import { multiplyByQuantizedMultiplier } from './fixed-point.js';
import { paddingBefore, type Conv2dOp } from './graph.js';

/**
 * Runs one conv2d op. `inputShape` is [h, w, c]; `outputShape` [outH, outW, outC]; weights [outC, kh, kw, c].
 */
export function conv2dInt8(
  op: Conv2dOp,
  input: Int8Array,
  inputShape: readonly number[],
  inputZeroPoint: number,
  output: Int8Array,
  outputShape: readonly number[],
  outputZeroPoint: number,
): void {
  const [inH, inW, inC] = inputShape;
  const [outH, outW, outC] = outputShape;
  const filterH = op.weightShape[1];
  const filterW = op.weightShape[2];
  const padTop = paddingBefore(op.padding, inH, filterH, op.strideH);
  const padLeft = paddingBefore(op.padding, inW, filterW, op.strideW);
  const { weights, bias, multipliers, shifts, activationMin, activationMax, strideH, strideW } = op;
  const inputOffset = -inputZeroPoint;
  const filterSize = filterH * filterW * inC;
  for (let oy = 0; oy < outH; oy++) {
    const inY0 = oy * strideH - padTop;
    for (let ox = 0; ox < outW; ox++) {
      const inX0 = ox * strideW - padLeft;
      const outBase = (oy * outW + ox) * outC;
      for (let oc = 0; oc < outC; oc++) {
        let acc = 0;
        const filterBase = oc * filterSize;
        for (let fy = 0; fy < filterH; fy++) {
          const inY = inY0 + fy;
          if (inY < 0 || inY >= inH) continue;
          for (let fx = 0; fx < filterW; fx++) {
            const inX = inX0 + fx;
            if (inX < 0 || inX >= inW) continue;
            const inBase = (inY * inW + inX) * inC;
            const wBase = filterBase + (fy * filterW + fx) * inC;
            for (let ic = 0; ic < inC; ic++) acc += weights[wBase + ic] * (input[inBase + ic] + inputOffset);
          }
        }
        acc = (acc + bias[oc]) | 0; // int32 accumulator
        let v = multiplyByQuantizedMultiplier(acc, multipliers[oc], shifts[oc]) + outputZeroPoint;
        v = v < activationMin ? activationMin : v > activationMax ? activationMax : v;
        output[outBase + oc] = v;
      }
    }
  }
}
