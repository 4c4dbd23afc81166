/**
 * A real Mosquitto 2 for the external-broker tests: a mosquitto.conf with one loopback listener on a free port, no
 * anonymous clients and the dynamic-security plugin, whose file `mosquitto_ctrl dynsec init` creates with an admin
 * account (the hub's). `restart()` kills the process and starts a new one on the same port with the same dynsec
 * file. Torn down when the test ends. Without Mosquitto installed, `startMosquitto` throws naming the package.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((path) => existsSync(path)) ?? 'mosquitto';
const DYNSEC_PLUGIN = ['/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so', '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so', '/usr/lib/mosquitto_dynamic_security.so']
  .find((path) => existsSync(path));

export const HUB_BROKER_USERNAME = 'fedfleet-hub';
export const HUB_BROKER_PASSWORD = 'hub-broker-password-0123456789';

/** Why Mosquitto cannot run here, or undefined when it can. */
export function mosquittoMissing(): string | undefined {
  if (spawnSync(MOSQUITTO, ['-h']).error) return `mosquitto not found: install the Debian package "mosquitto" (apt-get install mosquitto)`;
  if (spawnSync('mosquitto_ctrl', ['--help']).error) return `mosquitto_ctrl not found: install the Debian package "mosquitto-clients"`;
  if (!DYNSEC_PLUGIN) return `mosquitto_dynamic_security.so not found: install the Debian package "mosquitto" (2.0 or later)`;
  return undefined;
}

export interface Mosquitto {
  url: string;
  port: number;
  /** Kills the broker (SIGKILL: no goodbye to anyone) and starts it again on the same port and dynsec file. */
  restart(): Promise<void>;
  kill(): Promise<void>;
  /** What the broker logged so far. */
  log(): string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function accepting(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startMosquitto(options: { maxPacketBytes?: number } = {}): Promise<Mosquitto> {
  const missing = mosquittoMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'fedfleet-mosquitto-'));
  const dynsecFile = join(dir, 'dynamic-security.json');
  const init = spawnSync('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, HUB_BROKER_USERNAME, HUB_BROKER_PASSWORD], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr}${init.stdout}`);
  const port = await freePort();
  const confFile = join(dir, 'mosquitto.conf');
  writeFileSync(confFile, [
    `listener ${port} 127.0.0.1`,
    // Started as root, Mosquitto would switch to the `mosquitto` user, who cannot read or save the dynsec file here.
    `user ${userInfo().username}`,
    'allow_anonymous false',
    `plugin ${DYNSEC_PLUGIN}`,
    `plugin_opt_config_file ${dynsecFile}`,
    `max_packet_size ${options.maxPacketBytes ?? 4 * 1024 * 1024 + 1024}`,
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    '',
  ].join('\n'));
  let output = '';
  let child: ChildProcess | undefined;

  async function spawnBroker(): Promise<void> {
    const proc = spawn(MOSQUITTO, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout!.on('data', (chunk) => (output += chunk));
    proc.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${output}`))));
    await Promise.race([accepting(port, 5000), exited]);
    exited.catch(() => {});
  }

  async function kill(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await gone;
  }

  await spawnBroker();
  onTestFinished(async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async restart() {
      await kill();
      await spawnBroker();
    },
    kill,
    log: () => output,
  };
}
