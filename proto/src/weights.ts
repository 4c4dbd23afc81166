/**
 * A model's weights as plain typed arrays, in the order of the TensorFlow.js weights manifest
 * (`model.getWeights()` order). Everything that moves or combines weights — codecs, aggregation, training —
 * speaks this type; tensors are created only where a framework needs them.
 */
export interface WeightTensor {
  /** Weight name from the layers model (e.g. `dense_Dense1/kernel`). */
  name: string;
  /** Shape, row-major. */
  shape: number[];
  /** Values, row-major; length = product of `shape`. */
  data: Float32Array;
}

export type ModelWeights = WeightTensor[];

export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

export function paramCount(weights: ModelWeights): number {
  let count = 0;
  for (const w of weights) count += w.data.length;
  return count;
}

export function cloneWeights(weights: ModelWeights): ModelWeights {
  return weights.map((w) => ({ name: w.name, shape: [...w.shape], data: new Float32Array(w.data) }));
}
