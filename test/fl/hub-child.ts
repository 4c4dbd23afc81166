/**
 * The hub as a child process (`node hub/bin/fedfleet.mjs hub`) on fixed ports and a data directory that outlive it,
 * so a test can SIGKILL it and start it again where it was. Killed and cleaned up when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import type { Api } from '../../hub/test/rounds/round-helpers.js';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FEDFLEET_BIN = join(REPO_ROOT, 'hub', 'bin', 'fedfleet.mjs');
const ADMIN_TOKEN = 'fl-test-admin-token-0123456789abcdef';

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export class HubChild {
  readonly httpUrl: string;
  readonly mqttUrl: string;
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(readonly dataDir: string, readonly httpPort: number, readonly mqttPort: number) {
    this.httpUrl = `http://127.0.0.1:${httpPort}`;
    this.mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  }

  /** A new data directory and two free ports; not started. */
  static async create(): Promise<HubChild> {
    const dataDir = mkdtempSync(join(tmpdir(), 'fedfleet-fl-hub-'));
    const hub = new HubChild(dataDir, await freePort(), await freePort());
    onTestFinished(async () => {
      await hub.kill();
      rmSync(dataDir, { recursive: true, force: true });
    });
    return hub;
  }

  /** Starts the hub and resolves once it answers `/healthz`. */
  async start(timeoutMs = 30_000): Promise<void> {
    const child = spawn(process.execPath, [
      FEDFLEET_BIN, 'hub', '--data-dir', this.dataDir, '--host', '127.0.0.1', '--http-port', String(this.httpPort),
      '--mqtt-port', String(this.mqttPort), '--log-level', 'warn',
    ], { cwd: REPO_ROOT, env: { ...process.env, FEDFLEET_ADMIN_TOKEN: ADMIN_TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => this.keep(chunk));
    child.stderr!.on('data', (chunk: Buffer) => this.keep(chunk));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`hub exited with ${child.exitCode}:\n${this.output}`);
      const ok = await fetch(`${this.httpUrl}/healthz`).then((r) => r.ok, () => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`hub did not start within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGKILL: no graceful close, no OFFLINE statuses, whatever was not committed is lost. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Recent hub output, for failure messages. */
  get log(): string {
    return this.output;
  }

  api: Api = async (method, url, body) => {
    const response = await fetch(`${this.httpUrl}${url}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as never };
  };

  httpGet = async (url: string): Promise<Uint8Array> => {
    const response = await fetch(`${this.httpUrl}${url}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
    return new Uint8Array(await response.arrayBuffer());
  };

  private keep(chunk: Buffer): void {
    this.output = (this.output + chunk.toString('utf8')).slice(-20_000);
  }
}
