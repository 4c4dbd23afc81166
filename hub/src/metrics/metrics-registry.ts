/**
 * Counters and gauges with Prometheus text exposition (format 0.0.4). Deliberately small: labelled counters, and
 * gauges whose value is read when scraped.
 */
export type MetricLabels = Readonly<Record<string, string>>;

export interface Counter {
  inc(labels?: MetricLabels, amount?: number): void;
  /** Current value for one label set (0 when never incremented). */
  get(labels?: MetricLabels): number;
}

interface CounterEntry {
  kind: 'counter';
  name: string;
  help: string;
  values: Map<string, { labels: MetricLabels; value: number }>;
}

interface GaugeEntry {
  kind: 'gauge';
  name: string;
  help: string;
  collect: () => number | Array<{ labels: MetricLabels; value: number }>;
}

export interface MetricsRegistry {
  /** Creates (or returns the existing) counter `name`. */
  counter(name: string, help: string): Counter;
  /** Registers a gauge read at scrape time; registering a name again replaces its collector. */
  gauge(name: string, help: string, collect: GaugeEntry['collect']): void;
  /** The Prometheus text exposition of every metric. */
  render(): string;
}

const NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function labelKey(labels: MetricLabels): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join('\u0000');
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatLabels(labels: MetricLabels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((key) => `${key}="${escapeLabelValue(labels[key]!)}"`).join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export function createMetricsRegistry(): MetricsRegistry {
  const entries = new Map<string, CounterEntry | GaugeEntry>();

  function checkName(name: string): void {
    if (!NAME_PATTERN.test(name)) throw new TypeError(`invalid metric name ${name}`);
  }

  return {
    counter(name, help) {
      checkName(name);
      let entry = entries.get(name);
      if (entry && entry.kind !== 'counter') throw new TypeError(`${name} is already a ${entry.kind}`);
      if (!entry) entries.set(name, (entry = { kind: 'counter', name, help, values: new Map() }));
      const values = entry.values;
      return {
        inc(labels = {}, amount = 1) {
          const key = labelKey(labels);
          const slot = values.get(key);
          if (slot) slot.value += amount;
          else values.set(key, { labels: { ...labels }, value: amount });
        },
        get: (labels = {}) => values.get(labelKey(labels))?.value ?? 0,
      };
    },
    gauge(name, help, collect) {
      checkName(name);
      const existing = entries.get(name);
      if (existing && existing.kind !== 'gauge') throw new TypeError(`${name} is already a ${existing.kind}`);
      entries.set(name, { kind: 'gauge', name, help, collect });
    },
    render() {
      const lines: string[] = [];
      for (const entry of entries.values()) {
        lines.push(`# HELP ${entry.name} ${entry.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
        lines.push(`# TYPE ${entry.name} ${entry.kind}`);
        if (entry.kind === 'counter') {
          for (const { labels, value } of entry.values.values()) {
            lines.push(`${entry.name}${formatLabels(labels)} ${formatValue(value)}`);
          }
        } else {
          const collected = entry.collect();
          const samples = typeof collected === 'number' ? [{ labels: {}, value: collected }] : collected;
          for (const { labels, value } of samples) lines.push(`${entry.name}${formatLabels(labels)} ${formatValue(value)}`);
        }
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
