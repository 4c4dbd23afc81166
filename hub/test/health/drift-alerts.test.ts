import { describe, expect, it } from 'vitest';
import { enrollDevice } from '../helpers/devices.js';
import { startHealthHub } from './health-helpers.js';

const quality = (deviceId: string, accuracy: number, examples: number, baseline: number | null = 0.9) => ({
  deviceId, modelId: 'm1', versionId: 'v1', source: 'federated-eval', accuracy, examples, baseline,
});
const drift = (deviceId: string, psi: number, examples: number) => ({ deviceId, psi, ks: psi / 2, examples, baselineExamples: 1000 });

describe('accuracy-drift', () => {
  it('opens 10 points below the baseline (≥ 50 examples) and resolves once the drop is under 5 points', async () => {
    const hub = await startHealthHub({ listen: false });
    const { deviceId } = await enrollDevice(hub);
    hub.emit('device.quality', quality(deviceId, 0.85, 500)); // 5 points
    hub.emit('device.quality', quality(deviceId, 0.7, 49)); // too few examples
    hub.emit('device.quality', quality(deviceId, 0.7, 500, null)); // no baseline
    expect(await hub.alerts()).toEqual([]);

    hub.emit('device.quality', quality(deviceId, 0.78, 60)); // 12 points
    const [alert] = await hub.alerts('?rule=accuracy-drift&state=open');
    expect(alert).toMatchObject({ deviceId, severity: 'warning', threshold: 10 });
    expect(alert!.value).toBeCloseTo(12, 6);
    expect(alert!.message).toMatch(/^accuracy 78\.0 % is 12\.0 points below its baseline 90\.0 %/);

    hub.emit('device.quality', quality(deviceId, 0.83, 60)); // 7 points: in the dead band
    expect(await hub.alerts('?rule=accuracy-drift&state=open')).toHaveLength(1);
    hub.emit('device.quality', quality(deviceId, 0.87, 60)); // 3 points
    expect(await hub.alerts('?rule=accuracy-drift&state=open')).toEqual([]);
    expect((await hub.alerts())[0]).toMatchObject({ id: alert!.id, state: 'resolved' });
  });
});

describe('input-drift', () => {
  it('opens at PSI ≥ 0.25 (≥ 200 examples) and resolves below 0.1', async () => {
    const hub = await startHealthHub({ listen: false });
    const { deviceId } = await enrollDevice(hub);
    hub.emit('device.input-drift', drift(deviceId, 0.4, 199));
    hub.emit('device.input-drift', drift(deviceId, 0.2, 1000));
    expect(await hub.alerts()).toEqual([]);

    hub.emit('device.input-drift', drift(deviceId, 0.3, 1000));
    const [alert] = await hub.alerts('?rule=input-drift&state=open');
    expect(alert).toMatchObject({ rule: 'input-drift', deviceId, value: 0.3, threshold: 0.25 });
    expect(alert!.message).toBe('input drift: PSI 0.300 ≥ 0.25, KS 0.150 (1000 examples)');

    hub.emit('device.input-drift', drift(deviceId, 0.15, 1000));
    expect(await hub.alerts('?rule=input-drift&state=open')).toHaveLength(1);
    hub.emit('device.input-drift', drift(deviceId, 0.05, 1000));
    expect(await hub.alerts('?rule=input-drift&state=open')).toEqual([]);
  });
});
