// Aggregation for the robust rules (coordinate-wise median, trimmed mean, Krum), which need every update at
// once: each accepted delta is copied into one flat Float32Array (memory = clients × parameters × 4 bytes).
import type { ModelWeights } from '@fedfleet/proto';
import { BaseAggregator } from './base-aggregator.js';
import type { ClientUpdate } from './strategy.js';

/**
 * Computes the new global weights from the flattened deltas (`deltas[k]` = client k, tensors concatenated in
 * global order). The arrays may be overwritten by the callee.
 */
export type CombineDeltas = (global: ModelWeights, deltas: Float32Array[]) => ModelWeights;

export class BufferedAggregator extends BaseAggregator {
  private readonly deltas: Float32Array[] = [];
  private readonly paramCount: number;

  constructor(global: ModelWeights, minUpdates: number, private readonly combine: CombineDeltas) {
    super(global, minUpdates);
    let count = 0;
    for (const w of global) count += w.data.length;
    this.paramCount = count;
  }

  protected accept(update: ClientUpdate): void {
    const flat = new Float32Array(this.paramCount);
    let offset = 0;
    for (const w of update.delta) {
      flat.set(w.data, offset);
      offset += w.data.length;
    }
    this.deltas.push(flat);
  }

  protected compute(): ModelWeights {
    const result = this.combine(this.global, this.deltas);
    this.deltas.length = 0;
    return result;
  }
}
