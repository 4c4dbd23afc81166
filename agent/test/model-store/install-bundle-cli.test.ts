/**
 * `fedfleet agent --install-bundle <file>`: a bundle file installed by hand through the store — printed self-test,
 * exit 0 — and refused with its code and a non-zero exit when it is not signed by the enrolled hub's key.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBundleFile } from '@fedfleet/proto';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { runAgentCommand } from '../../src/cli.js';
import { FileCredentialStore } from '../../src/credentials.js';
import { int8Payload, testBundle, testKey } from './fixtures.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const key = testKey();

async function enrolledDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'install-bundle-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await new FileCredentialStore(dir).save({
    deviceId: 'dev-1', name: 'pi', hubUrl: 'http://hub', mqttUrl: 'mqtt://hub:1883', username: 'dev-1', password: 'secret',
    clientId: 'dev-1', hubPublicKey: key.publicKeyPem, heartbeatSec: 10, labels: {}, enrolledAt: new Date(0).toISOString(),
  });
  return dir;
}

describe('fedfleet agent --install-bundle', () => {
  it('installs a signed bundle file into <data-dir>/models and prints the self-test', async () => {
    const dataDir = await enrolledDataDir();
    const file = join(dataDir, 'v1.bundle');
    await writeFile(file, encodeBundleFile(testBundle(key, 'v1', int8Payload(1))));
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await runAgentCommand(['--data-dir', dataDir, '--install-bundle', file, '--no-serve', '--log-level', 'error'])).toBe(0);
    expect(stdout.mock.calls.map((c) => String(c[0])).join('')).toMatch(/installed argmax v1 \(int8 tflite\)[\s\S]*self-test: /);
    expect(JSON.parse(await readFile(join(dataDir, 'models', 'state.json'), 'utf8')).active.versionId).toBe('v1');
  }, 30_000);

  it('exits 1 with the code when the bundle is signed by another key, installing nothing', async () => {
    const dataDir = await enrolledDataDir();
    const file = join(dataDir, 'other.bundle');
    await writeFile(file, encodeBundleFile(testBundle(testKey(), 'v1', int8Payload(1))));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runAgentCommand(['--data-dir', dataDir, '--install-bundle', file, '--no-serve', '--log-level', 'error'])).toBe(1);
    expect(String(stderr.mock.calls[0]![0])).toMatch(/^error AGENT_ERR_BAD_SIGNATURE: /);
    await expect(readFile(join(dataDir, 'models', 'state.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  }, 30_000);
});
