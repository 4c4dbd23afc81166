/**
 * The rule engine: turns hub events into alerts (hub/docs/health.md#rules). Liveness events drive `device-offline`
 * (a clock timer per offline device), Telemetry samples the sustained-threshold rules, quality events the drift
 * rules, rollout and round events the failure rules. On start it adopts the open alerts a previous process left
 * (never opening a second one for the same rule and subject) and re-judges them against the fleet as it is now.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { HubEvents } from '../events/hub-events.js';
import type { DeviceRepo } from '../fleet/device-repo.js';
import '../fleet/fleet-events.js';
import type { DevicePresence } from '../fleet/liveness.js';
import type { HubLogger } from '../logger.js';
import '../quality/quality-events.js';
import '../rollouts/rollout-events.js';
import '../rounds/round-events.js';
import type { AlertRule, RuleSettings } from './alert-config.js';
import type { Alerts } from './alerts.js';
import { SustainedThreshold, type Direction } from './sustained-threshold.js';
import { formatDuration, TELEMETRY_RULES } from './telemetry-rules.js';

export interface AlertEngineDeps {
  alerts: Alerts;
  rules: Readonly<Record<AlertRule, RuleSettings>>;
  events: HubEvents;
  devices: Pick<DeviceRepo, 'list' | 'exists'>;
  presence: DevicePresence;
  clock: Clock;
  log: HubLogger;
  /** Each device's latest accuracy as stored (the quality capability), read once at start; later ones come as events. */
  storedAccuracies?: () => Iterable<{ deviceId: string; versionId: string; accuracy: number }>;
}

export interface AlertEngine {
  start(): void;
  stop(): void;
  /** The latest accuracy (0..1) a device reported, with the version it was measured on. */
  latestAccuracy(deviceId: string): { versionId: string; accuracy: number } | undefined;
}

/** An open alert whose condition still holds is written back at most this often (lastSeenAt's resolution). */
export const REFRESH_MS = 60_000;

const deviceSubject = (deviceId: string) => `device:${deviceId}`;
const keyOf = (subject: string, rule: string) => `${subject}|${rule}`;
/** Rules judged by {@link SustainedThreshold}: an open alert of one of these is re-armed on start. */
const THRESHOLD_RULES = new Set<string>([...TELEMETRY_RULES.map((r) => r.rule), 'accuracy-drift', 'input-drift']);

export function createAlertEngine(deps: AlertEngineDeps): AlertEngine {
  const { alerts, rules, events, devices, presence, clock, log } = deps;
  const thresholds = new SustainedThreshold();
  const offlineTimers = new Map<string, TimerHandle>();
  const accuracy = new Map<string, { versionId: string; accuracy: number }>();
  /** Per threshold key: when its open alert was last written, and with which severity. */
  const written = new Map<string, { atMs: number; critical: boolean }>();
  const unsubscribers: Array<() => void> = [];

  /** Feeds a threshold rule one measurement of a device and applies the verdict. */
  function judge(rule: AlertRule, direction: Direction, deviceId: string, value: number, message: (settings: RuleSettings) => string): void {
    const settings = rules[rule];
    if (!settings.enabled) return;
    const subject = deviceSubject(deviceId);
    const key = keyOf(subject, rule);
    const nowMs = clock.now();
    const verdict = thresholds.sample(key, value, nowMs, {
      direction, openAt: settings.openAt, resolveAt: settings.resolveAt, openForMs: settings.openForSec * 1000, resolveForMs: settings.resolveForSec * 1000,
    });
    if (verdict === 'resolved') {
      written.delete(key);
      alerts.clear(rule, subject);
    } else if (verdict === 'opened' || verdict === 'seen') {
      const critical = settings.criticalAt !== null && (direction === 'above' ? value >= settings.criticalAt : value <= settings.criticalAt);
      // A telemetry sample every few seconds per device must not become a write each: refresh now and then, or on escalation.
      const last = written.get(key);
      if (verdict === 'seen' && last && nowMs - last.atMs < REFRESH_MS && (last.critical || !critical)) return;
      written.set(key, { atMs: nowMs, critical: critical || Boolean(last?.critical) });
      alerts.raise({
        rule, subject, deviceId, severity: critical ? 'critical' : settings.severity, message: message(settings), value, threshold: settings.openAt,
      });
    }
  }

  function armOffline(deviceId: string, offlineSinceMs: number): void {
    const settings = rules['device-offline'];
    if (!settings.enabled || offlineTimers.has(deviceId)) return;
    const timer = clock.setTimeout(() => {
      offlineTimers.delete(deviceId);
      if (presence.isOnline(deviceId) || !devices.exists(deviceId)) return;
      const offlineSec = Math.round((clock.now() - offlineSinceMs) / 1000);
      alerts.raise({
        rule: 'device-offline', subject: deviceSubject(deviceId), deviceId, severity: settings.severity,
        message: `offline since ${new Date(offlineSinceMs).toISOString()} (≥ ${formatDuration(settings.openForSec)})`,
        value: offlineSec, threshold: settings.openForSec,
      });
    }, settings.openForSec * 1000);
    offlineTimers.set(deviceId, timer);
  }

  function disarmOffline(deviceId: string): void {
    const timer = offlineTimers.get(deviceId);
    if (timer) clock.clearTimer(timer);
    offlineTimers.delete(deviceId);
  }

  /** A rollout or round failure (an event with nothing to measure): opened, and refreshed by a repeat. */
  function failure(rule: 'rollout-failed' | 'round-failed', subject: string, deviceId: string | null, critical: boolean, message: string): void {
    const settings = rules[rule];
    if (!settings.enabled) return;
    alerts.raise({ rule, subject, deviceId, severity: critical ? 'critical' : settings.severity, message, value: null, threshold: null });
  }

  function subscribe(): void {
    unsubscribers.push(
      events.on('device.offline', ({ deviceId, at }) => {
        // Samples before and after a gap are not one sustained run.
        thresholds.interrupt(`${deviceSubject(deviceId)}|`);
        armOffline(deviceId, Date.parse(at));
      }),
      // An enrolled device that never connects is offline too (as it is after a restart: see reconcile).
      events.on('device.enrolled', ({ deviceId, at }) => armOffline(deviceId, Date.parse(at))),
      events.on('device.online', ({ deviceId }) => {
        disarmOffline(deviceId);
        alerts.clear('device-offline', deviceSubject(deviceId));
      }),
      events.on('device.revoked', ({ deviceId }) => {
        disarmOffline(deviceId);
        accuracy.delete(deviceId);
        for (const alert of alerts.openForDevice(deviceId)) {
          thresholds.forget(keyOf(alert.subject, alert.rule));
          written.delete(keyOf(alert.subject, alert.rule));
          alerts.clear(alert.rule, alert.subject);
        }
      }),
      events.on('telemetry', ({ deviceId, telemetry }) => {
        for (const { rule, direction, measure, describe } of TELEMETRY_RULES) {
          const value = measure(telemetry);
          if (value !== null) judge(rule, direction, deviceId, value, (s) => describe(value, s.openAt, s.openForSec));
        }
      }),
      events.on('device.quality', (signal) => {
        accuracy.set(signal.deviceId, { versionId: signal.versionId, accuracy: signal.accuracy });
        const { baseline } = signal;
        if (baseline === null || signal.examples < rules['accuracy-drift'].minExamples) return;
        const dropPts = 100 * (baseline - signal.accuracy);
        judge('accuracy-drift', 'above', signal.deviceId, dropPts, (s) =>
          `accuracy ${(100 * signal.accuracy).toFixed(1)} % is ${dropPts.toFixed(1)} points below its baseline ${(100 * baseline).toFixed(1)} % (≥ ${s.openAt}; ${signal.source}, ${signal.examples} examples)`);
      }),
      events.on('device.input-drift', (signal) => {
        if (signal.examples < rules['input-drift'].minExamples) return;
        judge('input-drift', 'above', signal.deviceId, signal.psi, (s) =>
          `input drift: PSI ${signal.psi.toFixed(3)} ≥ ${s.openAt}, KS ${signal.ks.toFixed(3)} (${signal.examples} examples)`);
      }),
      events.on('rollout.state', ({ rolloutId, state, errorCode, reason }) => {
        // An operator's abort (POST /v1/rollouts/:id/abort) is a decision, not a failure: as a cancelled campaign, no alert.
        if (state === 'aborted' && errorCode !== 'HUB_ERR_ROLLOUT_ABORTED') failure('rollout-failed', `rollout:${rolloutId}`, null, true, `rollout ${rolloutId} aborted${reason ? `: ${reason}` : ''}`);
      }),
      events.on('rollout.target', ({ rolloutId, deviceId, state, errorCode, reason }) => {
        if (state === 'failed') {
          failure('rollout-failed', deviceSubject(deviceId), deviceId, false,
            `rollout ${rolloutId} failed on the device: ${errorCode ?? 'failed'}${reason ? ` (${reason})` : ''}`);
        } else if (state === 'healthy') {
          alerts.clear('rollout-failed', deviceSubject(deviceId));
        }
      }),
      events.on('round.state', ({ campaignId, roundId, number, state, error }) => {
        if (state === 'failed') failure('round-failed', `campaign:${campaignId}`, null, false, `round ${number} (${roundId}) failed${error ? `: ${error}` : ''}`);
      }),
      events.on('campaign.state', ({ campaignId, state, error }) => {
        if (state === 'failed') failure('round-failed', `campaign:${campaignId}`, null, true, `campaign ${campaignId} failed${error ? `: ${error}` : ''}`);
      }),
      events.on('round.committed', ({ campaignId }) => {
        // A later round committed: the campaign recovered from a failed round (a failed campaign commits no more).
        alerts.clear('round-failed', `campaign:${campaignId}`);
      }),
    );
  }

  /** Adopts the open alerts of a previous process and arms `device-offline` for every device not online now. */
  function reconcile(): void {
    for (const alert of alerts.listOpen()) {
      if (alert.deviceId !== null && !devices.exists(alert.deviceId)) alerts.clear(alert.rule, alert.subject);
      else if (alert.rule === 'device-offline' && alert.deviceId !== null && presence.isOnline(alert.deviceId)) alerts.clear(alert.rule, alert.subject);
      else if (THRESHOLD_RULES.has(alert.rule)) thresholds.markOpen(keyOf(alert.subject, alert.rule));
    }
    const nowMs = clock.now();
    for (const device of devices.list().devices) {
      if (!presence.isOnline(device.id)) armOffline(device.id, Math.min(nowMs, device.lastSeenMs ?? nowMs));
    }
    log.debug({ open: alerts.listOpen().length, offlineTimers: offlineTimers.size }, 'alert engine started');
  }

  return {
    start() {
      for (const a of deps.storedAccuracies?.() ?? []) if (!accuracy.has(a.deviceId)) accuracy.set(a.deviceId, { versionId: a.versionId, accuracy: a.accuracy });
      subscribe();
      reconcile();
    },
    stop() {
      for (const off of unsubscribers.splice(0)) off();
      for (const deviceId of [...offlineTimers.keys()]) disarmOffline(deviceId);
    },
    latestAccuracy: (deviceId) => accuracy.get(deviceId),
  };
}
