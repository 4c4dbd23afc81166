/**
 * The hub as a child process (`node hub/bin/fedfleet.mjs hub`), in a temporary data directory, on ports the OS
 * picks (`--http-port 0 --mqtt-port 0`, read back from the startup banner, so concurrent runs never collide).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnChild, onCleanup, type Child } from './children.js';
import { HubApi } from './hub-api.js';
import { FEDFLEET_BIN, REPO_ROOT } from './paths.js';

export interface HubProcessOptions {
  /** Data directory; default a new temporary one, removed by `stop()` unless `keepDataDir`. */
  dataDir?: string;
  keepDataDir?: boolean;
  /** Hub log level (default `warn`: the bench and demo print what matters themselves). */
  logLevel?: string;
  /** Copy the hub's output to stderr. Default false. */
  echo?: boolean;
  /** How long to wait for the hub to listen, ms. Default 60,000 (tsx compiles the sources on first start). */
  startTimeoutMs?: number;
}

export interface HubProcess {
  child: Child;
  httpUrl: string;
  mqttUrl: string;
  dataDir: string;
  adminToken: string;
  api: HubApi;
  /** Stops the hub gracefully and removes its temporary data directory. */
  stop(): Promise<void>;
}

/** Creates a temporary directory that is removed at exit even if the caller never gets to remove it. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(path, { recursive: true, force: true });
  const unregister = onCleanup(remove);
  return {
    path,
    remove() {
      unregister();
      remove();
    },
  };
}

export async function startHubProcess(options: HubProcessOptions = {}): Promise<HubProcess> {
  const temp = options.dataDir ? undefined : tempDir('fedfleet-hub-');
  const dataDir = options.dataDir ?? temp!.path;
  // The token travels in the environment, never on the command line (it would show in `ps`).
  const adminToken = `bench-${randomBytes(18).toString('hex')}`;
  const child = spawnChild(
    'hub',
    process.execPath,
    [FEDFLEET_BIN, 'hub', '--data-dir', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--mqtt-port', '0', '--log-level', options.logLevel ?? 'warn'],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env, FEDFLEET_ADMIN_TOKEN: adminToken,
        // If this process dies without stopping the hub, the hub's watchdog removes the temporary folder.
        ...(temp && !options.keepDataDir ? { FEDFLEET_ORPHAN_CLEANUP_DIR: dataDir } : {}),
      },
      echo: options.echo ?? false,
    },
  );
  const stop = async () => {
    await child.stop();
    if (!options.keepDataDir) temp?.remove();
  };
  try {
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const [, httpUrl] = await child.waitForLine(/HTTP API\s+(http:\/\/\S+)/, timeoutMs);
    const [, mqttUrl] = await child.waitForLine(/MQTT broker\s+(mqtt:\/\/\S+)/, timeoutMs);
    const api = new HubApi(httpUrl!, adminToken);
    await api.request('GET', '/healthz');
    return { child, httpUrl: httpUrl!, mqttUrl: mqttUrl!, dataDir, adminToken, api, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
