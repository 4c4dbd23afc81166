/** Starts a real hub (HTTP + MQTT on ephemeral ports, a temp data dir) torn down when the current test ends. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { buildHub, type Hub } from '../../src/build-hub.js';
import type { Clock } from '../../src/clock.js';
import { createConfig, type HubConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestHub {
  hub: Hub;
  config: HubConfig;
  httpUrl: string;
  mqttUrl: string;
  dataDir: string;
  /** Calls the API in memory with the admin token (unless `token` says otherwise) and parses the JSON reply. */
  api<T = unknown>(method: string, url: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T; headers: Record<string, unknown> }>;
}

export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fedfleet-hub-test-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface StartTestHubOptions {
  config?: Partial<HubConfig>;
  clock?: Clock;
  logger?: Logger;
  dataDir?: string;
  /** Skip `listen()` (in-memory inject only). */
  listen?: boolean;
}

export async function startTestHub(options: StartTestHubOptions = {}): Promise<TestHub> {
  const dataDir = options.dataDir ?? tempDataDir();
  const config = createConfig({
    dataDir,
    httpPort: 0,
    mqttPort: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    adminToken: TEST_ADMIN_TOKEN,
    ...options.config,
  });
  const hub = buildHub(config, { clock: options.clock, logger: options.logger });
  onTestFinished(() => hub.close());
  let httpUrl = '';
  let mqttUrl = '';
  if (options.listen === false) await hub.ready();
  else ({ httpUrl, mqttUrl } = await hub.listen());
  return {
    hub,
    config,
    httpUrl,
    mqttUrl,
    dataDir,
    async api(method, url, body, token = TEST_ADMIN_TOKEN) {
      const response = await hub.inject({
        method: method as 'GET',
        url,
        ...(body === undefined ? {} : { payload: body as object }),
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
      });
      const text = response.body;
      return { status: response.statusCode, body: (text ? JSON.parse(text) : undefined) as never, headers: response.headers };
    },
  };
}
