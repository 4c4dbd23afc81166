/**
 * Device liveness (DESIGN section 6). A device is online once its session says so — a Status ONLINE (usually the
 * retained one published at connect) or any later message — and offline on a Status OFFLINE (its last will or a
 * graceful goodbye), when its MQTT session closes, or when nothing arrived for `missedHeartbeats × heartbeatSec`
 * (the device's own heartbeatSec when its Status or Telemetry gives one). Messages from a session that has since
 * been replaced — e.g. a late will after a reconnect — are ignored. `lastSeen` moves on every message and is
 * written to the database at most every `lastSeenFlushMs`.
 */
import { DeviceState, type fedfleet } from '@fedfleet/proto';
import type { HubLogger } from '../logger.js';
import type { Broker } from '../broker/broker.js';
import type { DeviceMessage } from '../broker/router.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { HubEvents } from '../events/hub-events.js';
import type { OfflineReason } from './fleet-events.js';
import type { DeviceProfile, DeviceRepo } from './device-repo.js';

export interface DeviceLiveness {
  online: boolean;
  /** Last message (ms since epoch), undefined when none arrived since the hub started. */
  lastSeenMs: number | undefined;
  /** The device's own heartbeat period, when it reported one. */
  heartbeatSec: number | undefined;
  /** From the device's last Status: it is running a command. */
  busy: boolean;
}

export interface LivenessOptions {
  devices: DeviceRepo;
  broker: Pick<Broker, 'currentSession' | 'events'>;
  events: HubEvents;
  clock: Clock;
  log: HubLogger;
  /** Default heartbeat period (seconds) for devices that report none. */
  heartbeatSec: number;
  /** Heartbeats missed before a device counts as offline. */
  missedHeartbeats: number;
  /** How often `lastSeen` is written to the database. Default 5000 ms. */
  lastSeenFlushMs?: number;
}

/**
 * What other capabilities may ask of liveness (rounds select and evaluate only devices that are online): the hub's
 * live view, never the stored `status` column, which another process may have written.
 */
export interface DevicePresence {
  /** Whether the device is online now (its session says so and it has not timed out). */
  isOnline(deviceId: string): boolean;
}

export interface Liveness extends DevicePresence {
  /** Router `onEvery` handler: refreshes lastSeen, and brings a device back online on any message. */
  touch(message: DeviceMessage): void;
  /** Router `status` handler. */
  applyStatus(message: DeviceMessage): void;
  /** Records a heartbeat period a device reported outside its Status (e.g. in Telemetry). */
  noteHeartbeat(deviceId: string, heartbeatSec: number): void;
  state(deviceId: string): DeviceLiveness | undefined;
  onlineCount(): number;
  /** Marks a revoked device offline and forgets it. */
  forget(deviceId: string): void;
  /** Applies heartbeat timeouts now (the timer calls it). */
  sweep(): void;
  /** Writes pending lastSeen values. */
  flush(): void;
  start(): void;
  /** Stops the timers, marks every online device offline (`hub-shutdown`) and flushes. */
  stop(): void;
}

interface State extends DeviceLiveness {
  lastSeenDirty: boolean;
}

export function profileFromProto(profile: fedfleet.v1.IHardwareProfile | null | undefined): DeviceProfile | undefined {
  if (!profile || !profile.kind) return undefined;
  return {
    kind: profile.kind,
    ramBytes: Number(profile.ramBytes ?? 0),
    flashBytes: Number(profile.flashBytes ?? 0),
    cpuMhz: profile.cpuMhz ?? 0,
    int8Only: profile.int8Only ?? false,
    canTrain: profile.canTrain ?? false,
    cores: profile.cores ?? 0,
    arch: profile.arch ?? '',
  };
}

/**
 * The training-set size a Status declares: a positive safe integer, else null (0 = not declared, DESIGN §9; anything
 * beyond 2⁵³ cannot be a real count and would lose precision).
 */
export function declaredTrainExamples(value: number | null | undefined): number | null {
  const n = Number(value ?? 0);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

export function createLiveness(options: LivenessOptions): Liveness {
  const { devices, broker, events, clock, log } = options;
  const states = new Map<string, State>();
  const timers: TimerHandle[] = [];
  const unsubscribers: Array<() => void> = [];
  let running = false;
  const iso = (ms: number) => new Date(ms).toISOString();

  function stateOf(deviceId: string): State {
    let state = states.get(deviceId);
    if (!state) {
      state = { online: false, lastSeenMs: undefined, heartbeatSec: undefined, busy: false, lastSeenDirty: false };
      states.set(deviceId, state);
    }
    return state;
  }

  /** Whether a message comes from the device's live session (not from one that was replaced). */
  function isCurrent(message: DeviceMessage): boolean {
    return broker.currentSession(message.deviceId) === message.sessionId;
  }

  function setOnline(deviceId: string, atMs: number): void {
    const state = stateOf(deviceId);
    if (state.online || !devices.exists(deviceId)) return;
    state.online = true;
    state.lastSeenMs = Math.max(state.lastSeenMs ?? 0, atMs);
    state.lastSeenDirty = false;
    devices.setStatus(deviceId, 'online', state.lastSeenMs);
    log.info({ deviceId }, 'device online');
    events.emit('device.online', { deviceId, at: iso(atMs) });
  }

  function setOffline(deviceId: string, reason: OfflineReason, detail: string | undefined, atMs: number): void {
    const state = states.get(deviceId);
    if (!state?.online) return;
    state.online = false;
    state.busy = false;
    state.lastSeenDirty = false;
    devices.setStatus(deviceId, 'offline', state.lastSeenMs ?? 0);
    log.info({ deviceId, reason, detail }, 'device offline');
    events.emit('device.offline', { deviceId, reason, ...(detail ? { detail } : {}), at: iso(atMs) });
  }

  function timeoutMs(state: State): number {
    return options.missedHeartbeats * (state.heartbeatSec ?? options.heartbeatSec) * 1000;
  }

  const liveness: Liveness = {
    touch(message) {
      if (!running || message.viaWill || !isCurrent(message)) return;
      const state = stateOf(message.deviceId);
      state.lastSeenMs = Math.max(state.lastSeenMs ?? 0, message.receivedAtMs);
      state.lastSeenDirty = true;
      // A Status decides for itself (it may say OFFLINE); anything else proves the device is there.
      if (message.kind !== 'status' && !state.online) setOnline(message.deviceId, message.receivedAtMs);
    },
    applyStatus(message) {
      if (!running) return;
      const { deviceId } = message;
      if (!isCurrent(message)) {
        log.debug({ deviceId, sessionId: message.sessionId }, 'status from a replaced session ignored');
        return;
      }
      const status = message.envelope.status!;
      const state = stateOf(deviceId);
      if (status.heartbeatSec) state.heartbeatSec = status.heartbeatSec;
      if (status.state === DeviceState.DEVICE_STATE_ONLINE) {
        state.busy = Boolean(status.busy);
        devices.setReportedState(deviceId, {
          agentVersion: status.agentVersion ?? '',
          activeModelId: status.activeModelId ?? '',
          activeVersionId: status.activeVersionId ?? '',
          activeSha256: status.activeSha256 ?? '',
          previousVersionId: status.previousVersionId ?? '',
          shadowVersionId: status.shadowVersionId ?? '',
          heartbeatSec: status.heartbeatSec || null,
          profile: profileFromProto(status.profile),
          trainExamples: declaredTrainExamples(status.trainExamples),
        });
        setOnline(deviceId, message.receivedAtMs);
      } else if (status.state === DeviceState.DEVICE_STATE_OFFLINE) {
        setOffline(deviceId, message.viaWill ? 'will' : 'status', status.reason || undefined, message.receivedAtMs);
      }
    },
    noteHeartbeat(deviceId, heartbeatSec) {
      if (heartbeatSec > 0) stateOf(deviceId).heartbeatSec = heartbeatSec;
    },
    state(deviceId) {
      const state = states.get(deviceId);
      return state && { online: state.online, lastSeenMs: state.lastSeenMs, heartbeatSec: state.heartbeatSec, busy: state.busy };
    },
    isOnline: (deviceId) => states.get(deviceId)?.online === true,
    onlineCount() {
      let count = 0;
      for (const state of states.values()) if (state.online) count++;
      return count;
    },
    forget(deviceId) {
      setOffline(deviceId, 'revoked', undefined, clock.now());
      states.delete(deviceId);
    },
    sweep() {
      const now = clock.now();
      for (const [deviceId, state] of states) {
        if (state.online && now - (state.lastSeenMs ?? now) >= timeoutMs(state)) {
          setOffline(deviceId, 'heartbeat-timeout', `nothing for ${Math.round((now - state.lastSeenMs!) / 1000)} s`, now);
        }
      }
    },
    flush() {
      const entries: Array<[string, number]> = [];
      for (const [deviceId, state] of states) {
        if (state.lastSeenDirty && state.lastSeenMs !== undefined) entries.push([deviceId, state.lastSeenMs]);
        state.lastSeenDirty = false;
      }
      devices.setLastSeen(entries);
    },
    start() {
      if (running) return;
      running = true;
      const marked = devices.markAllOffline();
      if (marked > 0) log.info({ devices: marked }, 'devices left online by the previous run marked offline');
      unsubscribers.push(
        broker.events.on('session.close', ({ deviceId, reason }) => {
          if (broker.currentSession(deviceId) !== undefined) return; // a newer session already took over
          if (reason === 'revoked') return liveness.forget(deviceId);
          setOffline(deviceId, 'disconnected', reason, clock.now());
        }),
      );
      const sweepMs = Math.max(100, Math.min(1000, (options.heartbeatSec * 1000) / 4));
      timers.push(clock.setInterval(() => liveness.sweep(), sweepMs));
      timers.push(clock.setInterval(() => liveness.flush(), options.lastSeenFlushMs ?? 5000));
    },
    stop() {
      if (!running) return;
      for (const timer of timers.splice(0)) clock.clearTimer(timer);
      for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
      liveness.flush();
      const now = clock.now();
      for (const deviceId of states.keys()) setOffline(deviceId, 'hub-shutdown', undefined, now);
      running = false;
    },
  };
  return liveness;
}
