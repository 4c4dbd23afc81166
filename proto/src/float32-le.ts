/**
 * Float32 values as little-endian bytes, the byte order of every float32 payload in fedfleet (fp32 tensors, the
 * agent's `<split>-x.f32` files, the hub's validation sets), whatever the host's own order.
 */

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function encodeFloat32Le(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  } else {
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  }
  return out;
}

/**
 * Decodes `bytes` (a multiple of 4 long) into `out`, by default a new array. Works for any byte offset of `bytes`:
 * the result is always aligned.
 */
export function decodeFloat32Le(bytes: Uint8Array, out = new Float32Array(bytes.byteLength / 4)): Float32Array {
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes.subarray(0, out.byteLength));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}
