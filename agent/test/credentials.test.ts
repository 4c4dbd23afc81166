import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCredentialStore, type DeviceCredentials } from '../src/credentials.js';

const creds: DeviceCredentials = {
  deviceId: 'd1', name: 'pi', hubUrl: 'http://h', mqttUrl: 'mqtt://h:1883', username: 'd1', password: 'secret',
  clientId: 'd1', hubPublicKey: 'pk', heartbeatSec: 10, labels: { site: 'lab' }, enrolledAt: new Date(0).toISOString(),
};

describe('FileCredentialStore', () => {
  it('saves with mode 0600 and loads the same credentials', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ff-cred-')), 'nested');
    const store = new FileCredentialStore(dir);
    expect(await store.load()).toBeUndefined();
    await store.save(creds);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(await store.load()).toEqual(creds);
  });

  it('reports a corrupt or incomplete file with AGENT_ERR_CREDENTIALS_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ff-cred-'));
    const store = new FileCredentialStore(dir);
    writeFileSync(store.path, '{not json');
    await expect(store.load()).rejects.toMatchObject({ code: 'AGENT_ERR_CREDENTIALS_FILE' });
    writeFileSync(store.path, JSON.stringify({ deviceId: 'd1' }));
    await expect(store.load()).rejects.toMatchObject({ code: 'AGENT_ERR_CREDENTIALS_FILE' });
  });
});
