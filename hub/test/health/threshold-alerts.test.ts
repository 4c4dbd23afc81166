import { describe, expect, it } from 'vitest';
import { enrollDevice } from '../helpers/devices.js';
import { sampleTelemetry, startHealthHub, type HealthHub } from './health-helpers.js';

/** One telemetry sample every 10 s for `seconds`, the clock moving with them. */
function cpuFor(hub: HealthHub, deviceId: string, cpuPercent: number, seconds: number): void {
  for (let t = 0; t < seconds; t += 10) {
    sampleTelemetry(hub, deviceId, { cpuPercent });
    hub.advance(10);
  }
}

describe('cpu-pressure', () => {
  it('opens when ≥ 90 % is sustained 5 min; only a sustained drop below 75 % resolves it (hysteresis)', async () => {
    const hub = await startHealthHub({ listen: false });
    const { deviceId } = await enrollDevice(hub);
    const events: string[] = [];
    hub.hub.events.on('alert.opened', ({ alert }) => alert.rule === 'cpu-pressure' && events.push(`opened ${alert.rule}`));
    hub.hub.events.on('alert.resolved', ({ alert }) => alert.rule === 'cpu-pressure' && events.push(`resolved ${alert.rule}`));

    // 4 min 50 s high, a dip below 90, then 4 min high again: never 5 min in one run.
    cpuFor(hub, deviceId, 95, 290);
    cpuFor(hub, deviceId, 85, 10);
    cpuFor(hub, deviceId, 95, 240);
    expect(await hub.alerts('?rule=cpu-pressure')).toEqual([]);
    // The run completes 5 min at the sample 300 s after its first one.
    cpuFor(hub, deviceId, 95, 70);
    const [alert] = await hub.alerts('?rule=cpu-pressure&state=open');
    expect(alert).toMatchObject({ rule: 'cpu-pressure', deviceId, severity: 'warning', value: 95, threshold: 90 });

    // Between the thresholds for long, and below 75 for less than 2 min: still open.
    cpuFor(hub, deviceId, 80, 600);
    cpuFor(hub, deviceId, 50, 110);
    cpuFor(hub, deviceId, 80, 10);
    cpuFor(hub, deviceId, 50, 110);
    expect(await hub.alerts('?rule=cpu-pressure&state=open')).toHaveLength(1);
    expect(events).toEqual(['opened cpu-pressure']);

    cpuFor(hub, deviceId, 50, 130);
    expect(await hub.alerts('?rule=cpu-pressure&state=open')).toEqual([]);
    expect(events).toEqual(['opened cpu-pressure', 'resolved cpu-pressure']);
    expect((await hub.alerts('?rule=cpu-pressure'))[0]).toMatchObject({ id: alert!.id, state: 'resolved' });
  });

  it('follows the alerts config: thresholds and windows per rule, or a rule switched off', async () => {
    const hub = await startHealthHub({
      listen: false, config: { alerts: { 'cpu-pressure': { openAt: 50, openForSec: 0 }, 'disk-low': { enabled: false } } },
    });
    const { deviceId } = await enrollDevice(hub);
    sampleTelemetry(hub, deviceId, { cpuPercent: 60, diskFreeBytes: 1, diskTotalBytes: 100 });
    expect((await hub.alerts()).map((a) => a.rule)).toEqual(['cpu-pressure']);
  });
});

describe('an open alert whose condition holds', () => {
  it('is refreshed (lastSeenAt, value) at most once a minute, not on every sample', async () => {
    const hub = await startHealthHub({ listen: false, config: { alerts: { 'cpu-pressure': { openForSec: 0 } } } });
    const { deviceId } = await enrollDevice(hub);
    const openedAt = new Date(hub.clock.now()).toISOString();
    cpuFor(hub, deviceId, 95, 60);
    expect((await hub.alerts('?rule=cpu-pressure'))[0]).toMatchObject({ openedAt, lastSeenAt: openedAt, value: 95 });
    sampleTelemetry(hub, deviceId, { cpuPercent: 97 });
    expect((await hub.alerts('?rule=cpu-pressure'))[0]).toMatchObject({ openedAt, lastSeenAt: new Date(hub.clock.now()).toISOString(), value: 97 });
  });
});

describe('temperature', () => {
  it('opens as a warning, escalates to critical at 90 °C, resolves below 70 °C', async () => {
    const hub = await startHealthHub({ listen: false });
    const { deviceId } = await enrollDevice(hub);
    for (let t = 0; t <= 120; t += 10) (sampleTelemetry(hub, deviceId, { temperatureC: 82 }), hub.advance(10));
    expect((await hub.alerts('?rule=temperature&state=open'))[0]).toMatchObject({ rule: 'temperature', severity: 'warning' });
    sampleTelemetry(hub, deviceId, { temperatureC: 93 });
    expect((await hub.alerts('?rule=temperature&state=open'))[0]).toMatchObject({ rule: 'temperature', severity: 'critical', value: 93 });
    sampleTelemetry(hub, deviceId, { temperatureC: 75 });
    expect(await hub.alerts('?rule=temperature&state=open')).toHaveLength(1);
    sampleTelemetry(hub, deviceId, { temperatureC: 65 });
    expect(await hub.alerts('?rule=temperature&state=open')).toEqual([]);
  });
});
