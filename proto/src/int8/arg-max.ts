// Arg-max over int8 logits, as TFLite's reference ArgMinMax (tensorflow/lite/kernels/internal/reference/arg_min_max.h):
// strict comparison, so the first of equal maxima wins. Softmax is monotonic, so the class is the same as after
// an int8 softmax.

/** Index of the largest code in `logits[offset, offset + length)`, relative to `offset`; first one on ties. */
export function argMaxInt8(logits: Int8Array, offset = 0, length = logits.length - offset): number {
  let best = 0;
  let bestValue = logits[offset];
  for (let i = 1; i < length; i++) {
    const v = logits[offset + i];
    if (v > bestValue) { bestValue = v; best = i; }
  }
  return best;
}
