/**
 * The alert metrics on `/metrics` (hub/docs/metrics.md#alerts): open alerts by rule, read from the store at scrape
 * (every rule is listed, 0 included, so a dashboard's series exist before the first alert), alerts opened by rule,
 * and webhook deliveries by outcome.
 */
import type { Counter, MetricsRegistry } from '../metrics/metrics-registry.js';
import { ALERT_RULES } from './alert-config.js';

export interface HealthMetrics {
  /** `fedfleet_alerts_total{rule}`: alerts opened. */
  readonly opened: Counter;
  /** `fedfleet_alert_webhook_deliveries_total{outcome}`. */
  readonly webhookDeliveries: Counter;
}

export function registerHealthMetrics(registry: MetricsRegistry, countOpenByRule: () => Record<string, number>): HealthMetrics {
  registry.gauge(
    'fedfleet_alerts_open',
    'Open alerts, by rule.',
    () => {
      const counts = countOpenByRule();
      const rules = new Set<string>([...ALERT_RULES, ...Object.keys(counts)]);
      return [...rules].map((rule) => ({ labels: { rule }, value: counts[rule] ?? 0 }));
    },
    ['rule'],
  );
  return {
    opened: registry.counter('fedfleet_alerts_total', 'Alerts opened, by rule.', ['rule']),
    webhookDeliveries: registry.counter(
      'fedfleet_alert_webhook_deliveries_total', 'Alert webhook deliveries, by outcome (delivered, retried, failed, dropped).', ['outcome'],
    ),
  };
}
