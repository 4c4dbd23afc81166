// Moves the output-channel axis between TensorFlow.js layouts (last axis) and TFLite layouts (first axis).

/** [..., out] → [out, ...]: `inner` = product of the leading dims, `channels` = out. */
export function channelsLastToFirst(x: Float32Array, channels: number): Float32Array {
  const inner = x.length / channels;
  const out = new Float32Array(x.length);
  for (let i = 0; i < inner; i++) for (let c = 0; c < channels; c++) out[c * inner + i] = x[i * channels + c];
  return out;
}

/** [out, ...] → [..., out], the inverse of channelsLastToFirst. */
export function channelsFirstToLast(x: Float32Array, channels: number): Float32Array {
  const inner = x.length / channels;
  const out = new Float32Array(x.length);
  for (let i = 0; i < inner; i++) for (let c = 0; c < channels; c++) out[i * channels + c] = x[c * inner + i];
  return out;
}
