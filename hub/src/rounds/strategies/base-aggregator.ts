// What every aggregator does the same way: validate an update completely before touching any state, refuse a
// device twice, refuse use after finish, enforce the strategy's minimum number of updates.
import type { ModelWeights } from '@fedfleet/proto';
import { StrategyError } from './errors.js';
import type { Aggregator, ClientUpdate } from './strategy.js';

/**
 * Checks that `global` is self-consistent (data length = product of shape) before a round starts.
 * @throws StrategyError HUB_ERR_AGG_SHAPE_MISMATCH.
 */
export function checkGlobal(global: ModelWeights): void {
  for (const w of global) {
    let size = 1;
    for (const dim of w.shape) size *= dim;
    if (w.data.length !== size) {
      const detail = `global ${w.name}: ${w.data.length} values for shape [${w.shape.join(',')}]`;
      throw new StrategyError('HUB_ERR_AGG_SHAPE_MISMATCH', detail);
    }
  }
}

/** Validates `update` against `global` without modifying anything. */
export function checkUpdate(global: ModelWeights, update: ClientUpdate): void {
  const { deviceId, exampleCount, delta } = update;
  if (typeof exampleCount !== 'number' || !Number.isFinite(exampleCount) || exampleCount <= 0) {
    throw new StrategyError('HUB_ERR_AGG_BAD_EXAMPLE_COUNT', `${deviceId}: ${String(exampleCount)}`);
  }
  if (!Array.isArray(delta) || delta.length !== global.length) {
    const got = Array.isArray(delta) ? delta.length : 'no';
    throw new StrategyError('HUB_ERR_AGG_SHAPE_MISMATCH', `${deviceId}: ${got} tensors, expected ${global.length}`);
  }
  for (let t = 0; t < global.length; t++) {
    const g = global[t];
    const d = delta[t];
    const sameShape = d.shape.length === g.shape.length && d.shape.every((dim, i) => dim === g.shape[i]);
    const sameData = d.data instanceof Float32Array && d.data.length === g.data.length;
    if (!sameShape || !sameData || (d.name !== '' && d.name !== g.name)) {
      throw new StrategyError(
        'HUB_ERR_AGG_SHAPE_MISMATCH',
        `${deviceId}: tensor ${t} ${d.name} [${d.shape.join(',')}] vs ${g.name} [${g.shape.join(',')}]`,
      );
    }
    const data = d.data;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v - v !== 0) throw new StrategyError('HUB_ERR_AGG_NON_FINITE', `${deviceId}: ${g.name}[${i}] = ${v}`);
    }
  }
}

/**
 * Template for aggregators: `add` validates, then calls {@link accept}; `finish` checks counts, then calls
 * {@link compute}. Subclasses hold only their own accumulators.
 */
export abstract class BaseAggregator implements Aggregator {
  private accepted = 0;
  private finished = false;
  // Device ids only (a few bytes each), never the updates.
  private readonly devices = new Set<string>();

  protected constructor(
    protected readonly global: ModelWeights,
    private readonly minUpdates: number,
  ) {}

  get count(): number {
    return this.accepted;
  }

  add(update: ClientUpdate): void {
    if (this.finished) throw new StrategyError('HUB_ERR_AGG_FINISHED');
    if (this.devices.has(update.deviceId)) throw new StrategyError('HUB_ERR_AGG_DUPLICATE_DEVICE', update.deviceId);
    checkUpdate(this.global, update);
    this.accept(update);
    this.devices.add(update.deviceId);
    this.accepted += 1;
  }

  finish(): ModelWeights {
    if (this.finished) throw new StrategyError('HUB_ERR_AGG_FINISHED');
    if (this.accepted === 0) throw new StrategyError('HUB_ERR_AGG_NO_UPDATES');
    if (this.accepted < this.minUpdates) {
      throw new StrategyError('HUB_ERR_AGG_TOO_FEW_UPDATES', `${this.accepted} < ${this.minUpdates}`);
    }
    // Single use even when compute throws (e.g. HUB_ERR_AGG_STALE): accumulators may be half-transformed.
    this.finished = true;
    return this.compute();
  }

  /** Folds a validated update into the aggregator's state. */
  protected abstract accept(update: ClientUpdate): void;

  /** Produces the new global weights; called once, with at least `minUpdates` updates. */
  protected abstract compute(): ModelWeights;
}
