// Element-wise helpers shared by the strategies: applying a step to the global weights and reducing each
// coordinate across clients. Plain loops over typed arrays, nothing allocated per element.
import type { ModelWeights } from '@fedfleet/proto';

/** w = global + step (FedAvg's server update with the mean delta as the step). */
export function addToGlobal(global: ModelWeights, step: Float64Array[]): ModelWeights {
  return global.map((w, t) => {
    const out = new Float32Array(w.data.length);
    const s = step[t];
    const g = w.data;
    for (let i = 0; i < out.length; i++) out[i] = g[i] + s[i];
    return { name: w.name, shape: [...w.shape], data: out };
  });
}

/**
 * Builds new global weights from a flat step vector: w = global + step (step laid out like the flattened deltas).
 */
export function addFlatToGlobal(global: ModelWeights, step: Float32Array | Float64Array): ModelWeights {
  let offset = 0;
  return global.map((w) => {
    const out = new Float32Array(w.data.length);
    const g = w.data;
    for (let i = 0; i < out.length; i++) out[i] = g[i] + step[offset + i];
    offset += out.length;
    return { name: w.name, shape: [...w.shape], data: out };
  });
}

/**
 * Applies `reduce` to every coordinate: gathers the n client values of coordinate j into `column` (length n,
 * reused), and writes reduce(column) to the step. `reduce` may reorder `column`.
 */
export function reduceCoordinates(
  global: ModelWeights,
  deltas: readonly Float32Array[],
  reduce: (column: Float64Array) => number,
): ModelWeights {
  const n = deltas.length;
  const size = deltas[0].length;
  const column = new Float64Array(n);
  const step = new Float64Array(size);
  for (let j = 0; j < size; j++) {
    for (let k = 0; k < n; k++) column[k] = deltas[k][j];
    step[j] = reduce(column);
  }
  return addFlatToGlobal(global, step);
}

/** Sorts ascending in place: insertion sort for the small columns of a round (no runtime call), else the built-in. */
export function sortColumn(a: Float64Array): void {
  const n = a.length;
  if (n > 32) {
    a.sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= 0 && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}
