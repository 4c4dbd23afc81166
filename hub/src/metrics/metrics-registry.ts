/**
 * The hub's metrics registry: a thin layer over one prom-client `Registry` per hub (tests run many hubs in one
 * process, so never prom-client's global default registry). It keeps the small API the hub's code already calls —
 * `counter(…).inc(labels)` with a synchronous `get(labels)`, and gauges read at scrape time — and adds histograms
 * and Node's process metrics (`collectDefaultMetrics`, in a registry shared by the process). Exposition: Prometheus text
 * format 0.0.4.
 */
import { Counter as PromCounter, Gauge, Histogram as PromHistogram, Registry, collectDefaultMetrics } from 'prom-client';

export type MetricLabels = Readonly<Record<string, string>>;

export interface Counter {
  inc(labels?: MetricLabels, amount?: number): void;
  /** Current value for one label set (0 when never incremented); synchronous, unlike prom-client's `get()`. */
  get(labels?: MetricLabels): number;
}

export interface Histogram {
  /** Records one observation, in the histogram's unit (seconds for every `*_seconds` histogram). */
  observe(labels: MetricLabels, value: number): void;
}

export interface GaugeSample {
  labels: MetricLabels;
  value: number;
}

export interface MetricsRegistry {
  /** The prom-client registry behind it (for collectors that want prom-client directly). */
  readonly prom: Registry;
  /** Creates (or returns the existing) counter `name`; `labelNames` are every label it may be incremented with. */
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  /**
   * Registers a gauge read at scrape time (a prom-client collect callback, so nothing is maintained by hand);
   * registering a name again replaces its collector. Labelled samples need their `labelNames`.
   */
  gauge(name: string, help: string, collect: () => number | GaugeSample[], labelNames?: readonly string[]): void;
  /**
   * Registers a counter read at scrape time from a count kept elsewhere (which only grows, as a counter must);
   * registering a name again replaces its collector.
   */
  counterFrom(name: string, help: string, collect: () => number): void;
  /** Creates (or returns the existing) histogram `name` with upper bounds `buckets`. */
  histogram(name: string, help: string, buckets: readonly number[], labelNames?: readonly string[]): Histogram;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
  /** The Content-Type of {@link render}'s text. */
  readonly contentType: string;
}

/**
 * Node's process metrics live in one registry per process, shared by every hub in it: they describe the process, and
 * prom-client starts an event-loop monitor and a GC observer per `collectDefaultMetrics` call that nothing stops, so
 * one per hub would pile up in a test run that starts many hubs.
 */
let processRegistry: Registry | undefined;
function sharedProcessRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

function labelKey(labels: MetricLabels): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join('\u0000');
}

/** A registry whose exposition includes Node's process metrics (`process_cpu_seconds_total`, …). */
export function createMetricsRegistry(): MetricsRegistry {
  const prom = new Registry();
  const processMetrics = sharedProcessRegistry();
  const counters = new Map<string, Counter>();
  const histograms = new Map<string, Histogram>();

  return {
    prom,
    contentType: prom.contentType,
    counter(name, help, labelNames = []) {
      const existing = counters.get(name);
      if (existing) return existing;
      const counter = new PromCounter({ name, help, labelNames: [...labelNames], registers: [prom] });
      // prom-client's own get() is asynchronous; callers and tests read counts synchronously.
      const values = new Map<string, number>();
      const wrapped: Counter = {
        inc(labels = {}, amount = 1) {
          counter.inc(labels, amount);
          const key = labelKey(labels);
          values.set(key, (values.get(key) ?? 0) + amount);
        },
        get: (labels = {}) => values.get(labelKey(labels)) ?? 0,
      };
      counters.set(name, wrapped);
      return wrapped;
    },
    gauge(name, help, collect, labelNames = []) {
      prom.removeSingleMetric(name);
      new Gauge({
        name,
        help,
        labelNames: [...labelNames],
        registers: [prom],
        collect() {
          this.reset();
          const collected = collect();
          if (typeof collected === 'number') this.set(collected);
          else for (const { labels, value } of collected) this.set(labels, value);
        },
      });
    },
    counterFrom(name, help, collect) {
      prom.removeSingleMetric(name);
      new PromCounter({
        name,
        help,
        registers: [prom],
        collect() {
          this.reset();
          this.inc(collect());
        },
      });
    },
    histogram(name, help, buckets, labelNames = []) {
      const existing = histograms.get(name);
      if (existing) return existing;
      const histogram = new PromHistogram({ name, help, buckets: [...buckets], labelNames: [...labelNames], registers: [prom] });
      const wrapped: Histogram = { observe: (labels, value) => histogram.observe(labels, value) };
      histograms.set(name, wrapped);
      return wrapped;
    },
    // prom-client writes NaN as `Nan` (the event-loop stats before the first sample); the format's token is `NaN`.
    async render() {
      const text = `${await prom.metrics()}\n${await processMetrics.metrics()}`;
      return text.replace(/ Nan$/gm, ' NaN');
    },
  };
}
