import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildHub } from '../src/build-hub.js';
import { createManualClock } from '../src/clock.js';
import { createConfig } from '../src/config.js';
import { LOCK_HOLDER_FILE } from '../src/store/data-dir-lock.js';
import { openStore } from '../src/store/store.js';
import { connectDevice, enrollDevice, publishStatus, waitFor } from './helpers/devices.js';
import { startTestHub, tempDataDir, TEST_ADMIN_TOKEN } from './helpers/test-hub.js';

describe('data directory lock', () => {
  it('lets one store at a time open a data directory, and names the holder to the others', () => {
    const dataDir = tempDataDir();
    const clock = createManualClock();
    const first = openStore({ dataDir, clock });
    expect(JSON.parse(readFileSync(join(dataDir, LOCK_HOLDER_FILE), 'utf8'))).toEqual({
      pid: process.pid, hostname: hostname(), startedAt: new Date(clock.now()).toISOString(),
    });
    expect(() => openStore({ dataDir, clock })).toThrow(expect.objectContaining({
      code: 'HUB_ERR_DATA_DIR_LOCKED',
      message: `data directory ${dataDir} is in use by another hub (pid ${process.pid} (this process) on ${hostname()}, ` +
        `started ${new Date(clock.now()).toISOString()}); stop that hub, or give this one its own --data-dir (FEDFLEET_DATA_DIR)`,
    }));
    // Refusing did not disturb the holder.
    expect(first.db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: expect.any(Number) });

    first.close();
    expect(existsSync(join(dataDir, LOCK_HOLDER_FILE))).toBe(false);
    const second = openStore({ dataDir, clock });
    second.close();
    second.close(); // idempotent
  });

  it('refuses a second hub before it marks the first hub\'s devices offline', async () => {
    const first = await startTestHub();
    const device = await enrollDevice(first);
    const client = await connectDevice(first, device);
    await publishStatus(client, device.deviceId);
    await waitFor(() => first.hub.fleet.liveness.isOnline(device.deviceId));

    const second = buildHub(createConfig({ dataDir: first.dataDir, httpPort: 0, mqttPort: 0, host: '127.0.0.1', logLevel: 'silent', adminToken: TEST_ADMIN_TOKEN }));
    await expect(second.ready()).rejects.toMatchObject({ code: 'HUB_ERR_DATA_DIR_LOCKED', message: expect.stringContaining(`HTTP ${first.httpUrl}, MQTT ${first.mqttUrl}`) });
    await second.close();

    // The stored status, which the API and round selection read, still says online.
    expect((await first.api<{ status: string }>('GET', `/v1/devices/${device.deviceId}`)).body.status).toBe('online');
    expect((await first.api<{ byStatus: { online: number } }>('GET', '/v1/fleet/health')).body.byStatus.online).toBe(1);
  });
});
