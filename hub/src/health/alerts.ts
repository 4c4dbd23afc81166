/**
 * Alerts as a service: the one writer of the alerts table. Opening, refreshing, resolving and acknowledging go
 * through here so each committed change is announced once (`alert.opened|resolved|acknowledged` on hub.events) and
 * counted (`fedfleet_alerts_total`). Acknowledging is audited and idempotent; it resolves only alerts whose subject
 * is not a device (a failed rollout or campaign: nothing can clear them by itself — hub/docs/health.md#acknowledging).
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { HubError } from '../errors.js';
import type { HubEvents } from '../events/hub-events.js';
import type { Counter } from '../metrics/metrics-registry.js';
import type { AlertOccurrence, AlertRepo } from './alert-repo.js';
import './health-events.js';
import type { AlertJson, AlertListQuery } from './schemas.js';

export interface Alerts {
  /** Opens an alert, or refreshes the open one of its (rule, subject). */
  raise(occurrence: AlertOccurrence): AlertJson;
  /** Resolves the open alert of (rule, subject), if any. */
  clear(rule: string, subject: string): AlertJson | undefined;
  /** Throws HUB_ERR_ALERT_NOT_FOUND. Acknowledging twice changes nothing the second time. */
  acknowledge(id: string, actor: string): AlertJson;
  list(query: Partial<AlertListQuery>): AlertJson[];
  listOpen(): AlertJson[];
  /** Open alerts of one device, oldest first. */
  openForDevice(deviceId: string): AlertJson[];
  countOpenByRule(): Record<string, number>;
}

export interface AlertsDeps {
  repo: AlertRepo;
  events: HubEvents;
  audit: AuditLog;
  clock: Clock;
  /** `fedfleet_alerts_total{rule}`: alerts opened. */
  opened: Counter;
}

export function createAlerts({ repo, events, audit, clock, opened }: AlertsDeps): Alerts {
  const at = () => new Date(clock.now()).toISOString();

  function clear(rule: string, subject: string): AlertJson | undefined {
    const alert = repo.resolve(rule, subject, clock.now());
    if (alert) events.emit('alert.resolved', { alert, at: at() });
    return alert;
  }

  return {
    raise(occurrence) {
      const { alert, created } = repo.open(occurrence, clock.now());
      if (created) {
        opened.inc({ rule: alert.rule });
        events.emit('alert.opened', { alert, at: at() });
      }
      return alert;
    },
    clear,
    acknowledge(id, actor) {
      const result = repo.acknowledge(id, actor, clock.now());
      if (!result) throw new HubError('HUB_ERR_ALERT_NOT_FOUND', { message: `no alert ${id}` });
      let { alert } = result;
      if (result.changed) {
        audit.record({ actor, action: 'alert.acknowledged', target: id, details: { rule: alert.rule, subject: alert.subject } });
        events.emit('alert.acknowledged', { alert, at: at() });
      }
      if (alert.state === 'open' && alert.deviceId === null) alert = clear(alert.rule, alert.subject) ?? alert;
      return alert;
    },
    list: (query) => repo.list(query),
    listOpen: () => repo.listOpen(),
    openForDevice: (deviceId) => repo.listOpenForDevice(deviceId),
    countOpenByRule: () => repo.countOpenByRule(),
  };
}
