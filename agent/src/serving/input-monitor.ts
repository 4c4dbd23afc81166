/**
 * What a device reports about its inputs (Telemetry.input_stats and input_baseline): the histogram of the inputs it
 * served recently and, once per data source, the same bins over its training split, whose min and max set the bins'
 * range. The hub measures drift between the two (hub/docs/quality.md).
 */
import type { InputHistogramProps, TelemetryProps } from '@fedfleet/proto';
import type { Dataset } from '../data/dataset.js';
import { DEFAULT_INPUT_BINS, DEFAULT_INPUT_RANGE, histogramOf, InputWindow, rangeOf } from './input-histogram.js';

export interface InputMonitorOptions {
  /** The device's training split; read once, on the first input or report. None: no baseline, range [0, 1). */
  trainingData?: () => Dataset | undefined;
  /** Recent inputs the histogram covers. Default 1,024. */
  windowSize?: number;
  /** Bins of both histograms. Default 16. */
  bins?: number;
}

export class InputMonitor {
  private window: InputWindow | undefined;
  private baseline: InputHistogramProps | undefined;

  constructor(private readonly options: InputMonitorOptions = {}) {}

  /** One input the device's model was given. */
  record(input: Float32Array): void {
    this.open().record(input);
  }

  /** The telemetry fields: input_stats after the first input, input_baseline with training data. */
  telemetry(): Pick<TelemetryProps, 'inputStats' | 'inputBaseline'> {
    const stats = this.open().snapshot();
    return { ...(stats ? { inputStats: stats } : {}), ...(this.baseline ? { inputBaseline: this.baseline } : {}) };
  }

  private open(): InputWindow {
    if (this.window) return this.window;
    const bins = this.options.bins ?? DEFAULT_INPUT_BINS;
    const train = this.options.trainingData?.();
    let range = DEFAULT_INPUT_RANGE;
    if (train && train.count > 0) {
      range = rangeOf(train.x);
      this.baseline = histogramOf(train.x, train.count, range, bins);
    }
    this.window = new InputWindow({ range, bins, ...(this.options.windowSize === undefined ? {} : { windowSize: this.options.windowSize }) });
    return this.window;
  }
}
