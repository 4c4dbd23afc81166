import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemTelemetry, readNetBytes, readTemperatureC } from '../src/telemetry.js';

describe('telemetry', () => {
  it('reads the hottest thermal zone in degrees C and skips unreadable zones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ff-thermal-'));
    for (const [zone, milli] of [['thermal_zone0', '41234\n'], ['thermal_zone1', '55000\n']]) {
      mkdirSync(join(root, zone!));
      writeFileSync(join(root, zone!, 'temp'), milli!);
    }
    mkdirSync(join(root, 'thermal_zone2'));
    mkdirSync(join(root, 'cooling_device0'));
    expect(await readTemperatureC(root)).toBe(55);
    expect(await readTemperatureC(join(root, 'absent'))).toBeUndefined();
  });

  it('sums network bytes over non-loopback interfaces', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ff-net-')), 'dev');
    writeFileSync(path, [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0',
      '  eth0: 2000 20 0 0 0 0 0 0 3000 30 0 0 0 0 0 0',
      ' wlan0: 5 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0',
    ].join('\n'));
    expect(await readNetBytes(path)).toEqual({ rx: 2005, tx: 3007 });
  });

  it('samples the host: memory, load, uptime, disk, cpu percent in [0, 100]', async () => {
    let now = 1_000;
    const source = new SystemTelemetry({ diskPath: tmpdir(), startedAtMs: 0, now: () => now });
    await source.sample();
    now = 5_000;
    const t = await source.sample();
    expect(t.memTotalBytes).toBeGreaterThan(0);
    expect(t.rssBytes).toBeGreaterThan(0);
    expect(t.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(t.cpuPercent).toBeLessThanOrEqual(100);
    expect(t.agentUptimeSec).toBe(5);
    expect(t.diskFreeBytes).toBeGreaterThan(0);
    expect(t.uptimeSec).toBeGreaterThan(0);
  });
});
