import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import type { AlertJson } from '../../src/health/schemas.js';
import { enrollDevice } from '../helpers/devices.js';
import { tempDataDir } from '../helpers/test-hub.js';
import { sampleTelemetry, startHealthHub } from './health-helpers.js';

describe('alerts across a hub restart', () => {
  it('keeps one open alert per (rule, subject): the new process adopts it, refreshes it and resolves it', async () => {
    const dataDir = tempDataDir();
    const clock = createManualClock();
    const first = await startHealthHub({ listen: false, dataDir, clock });
    const { deviceId } = await enrollDevice(first);
    sampleTelemetry(first, deviceId, { diskFreeBytes: 5, diskTotalBytes: 100 });
    first.advance(60);
    const before = await first.alerts('?state=open');
    expect(before.map((a) => a.rule).sort()).toEqual(['device-offline', 'disk-low']);
    await first.hub.close();

    const second = await startHealthHub({ listen: false, dataDir, clock });
    second.advance(60); // device-offline judged again: the device is still offline
    const after = await second.alerts('?state=open');
    expect(after.map((a) => a.id).sort()).toEqual(before.map((a) => a.id).sort());
    const offline = after.find((a) => a.rule === 'device-offline')!;
    expect(offline).toMatchObject({ openedAt: before.find((a) => a.rule === 'device-offline')!.openedAt, lastSeenAt: new Date(clock.now()).toISOString() });

    // The adopted disk alert resolves on the first good sample, as if this process had opened it.
    const disk = after.find((a) => a.rule === 'disk-low')!;
    sampleTelemetry(second, deviceId, { diskFreeBytes: 20, diskTotalBytes: 100 });
    expect((await second.alerts('?rule=disk-low'))[0]).toMatchObject({ id: disk.id, state: 'resolved' });

    // The store itself refuses a second open alert of one (rule, subject).
    const insert = second.hub.store.db.prepare(
      `INSERT INTO alerts (id, rule, severity, subject, device_id, state, message, opened_at_ms, last_seen_at_ms)
       VALUES (?, 'device-offline', 'critical', ?, ?, 'open', 'dup', 0, 0)`,
    );
    expect(() => insert.run('dup-1', `device:${deviceId}`, deviceId)).toThrow(/UNIQUE/);
  });
});

describe('POST /v1/alerts/:id/ack', () => {
  it('records who acknowledged, once (audited, idempotent); a device alert stays open until its condition clears', async () => {
    const hub = await startHealthHub({ listen: false });
    const { deviceId } = await enrollDevice(hub);
    const acked: string[] = [];
    hub.hub.events.on('alert.acknowledged', ({ alert }) => acked.push(alert.id));
    sampleTelemetry(hub, deviceId, { diskFreeBytes: 5, diskTotalBytes: 100 });
    const [alert] = await hub.alerts('?rule=disk-low');

    hub.advance(5);
    const first = await hub.api<AlertJson>('POST', `/v1/alerts/${alert!.id}/ack`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: alert!.id, state: 'open', acknowledgedBy: 'admin', acknowledgedAt: new Date(hub.clock.now()).toISOString() });
    hub.advance(5);
    const again = await hub.api<AlertJson>('POST', `/v1/alerts/${alert!.id}/ack`);
    expect(again.body).toEqual(first.body);
    expect(acked).toEqual([alert!.id]);
    const audit = await hub.api<Array<{ action: string; target: string }>>('GET', '/v1/audit?action=alert.acknowledged');
    expect(audit.body.map((e) => e.target)).toEqual([alert!.id]);

    sampleTelemetry(hub, deviceId, { diskFreeBytes: 50, diskTotalBytes: 100 });
    expect((await hub.alerts('?rule=disk-low'))[0]).toMatchObject({ state: 'resolved', acknowledgedBy: 'admin' });

    const missing = await hub.api<{ error: { code: string } }>('POST', '/v1/alerts/no-such-alert/ack');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('HUB_ERR_ALERT_NOT_FOUND');
  });
});

describe('rollout-failed and round-failed', () => {
  it('opens on an aborted rollout (resolved by ack), on a failed target (resolved by a later healthy one) and on a failed round', async () => {
    const hub = await startHealthHub({ listen: false });
    const { deviceId } = await enrollDevice(hub);
    const counts = {};
    hub.emit('rollout.state', { rolloutId: 'r1', state: 'aborted', currentWave: 1, errorCode: 'HUB_ERR_ROLLOUT_ERROR_THRESHOLD', reason: 'too many failed' });
    hub.emit('rollout.target', { rolloutId: 'r1', deviceId, wave: 1, from: 'activated', state: 'failed', errorCode: 'HUB_ERR_ROLLOUT_GATE_FAILED', reason: null, counts });
    hub.emit('round.state', { campaignId: 'c1', roundId: 'rd1', number: 2, state: 'failed', error: 'too few updates', errorCode: 'HUB_ERR_ROUND_TIMEOUT' });
    const open = await hub.alerts('?state=open');
    const bySubject = Object.fromEntries(open.map((a) => [a.subject, a]));
    expect(bySubject['rollout:r1']).toMatchObject({ rule: 'rollout-failed', severity: 'critical', deviceId: null, message: 'rollout r1 aborted: too many failed' });
    expect(bySubject[`device:${deviceId}`]).toMatchObject({ rule: 'rollout-failed', severity: 'warning', deviceId });
    expect(bySubject['campaign:c1']).toMatchObject({ rule: 'round-failed', severity: 'warning', message: 'round 2 (rd1) failed: too few updates' });

    const acked = await hub.api<AlertJson>('POST', `/v1/alerts/${bySubject['rollout:r1']!.id}/ack`);
    expect(acked.body).toMatchObject({ state: 'resolved', acknowledgedBy: 'admin' });
    hub.emit('rollout.target', { rolloutId: 'r2', deviceId, wave: 1, from: 'activated', state: 'healthy', errorCode: null, reason: null, counts });
    hub.emit('round.committed', { campaignId: 'c1', roundId: 'rd2', number: 3, versionId: 'v3', accuracy: 0.9, loss: 0.1 });
    expect(await hub.alerts('?state=open')).toEqual([]);
  });

  it('opens none for a rollout an operator aborted (HUB_ERR_ROLLOUT_ABORTED), as none for a cancelled campaign', async () => {
    const hub = await startHealthHub({ listen: false });
    hub.emit('rollout.state', { rolloutId: 'r1', state: 'aborted', currentWave: 1, errorCode: 'HUB_ERR_ROLLOUT_ABORTED', reason: 'aborted by an operator' });
    hub.emit('campaign.state', { campaignId: 'c1', state: 'cancelled', error: null, errorCode: null });
    hub.emit('rollout.state', { rolloutId: 'r2', state: 'aborted', currentWave: 2, errorCode: 'HUB_ERR_ROLLOUT_GATE_FAILED', reason: 'gate' });
    expect((await hub.alerts('?state=open')).map((a) => a.subject)).toEqual(['rollout:r2']);
  });
});
