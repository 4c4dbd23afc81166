/**
 * `npm run bench:connect-flood`: the issue-7 probe as a benchmark. Starts `fedfleet hub` as a child process, opens
 * three raw TCP connections that each announce a 200 MiB CONNECT (Remaining Length, [MQTT-2.2.3]) and stream zeros
 * into it without ever logging in, and reports how much each could write before the hub closed it and the hub's
 * resident memory before and after. Anchor: the hub before its stream guard buffered every announced byte — three
 * such connections took it from about 210 MB to about 800 MB resident. `--hub-bin <path>` runs another build of the
 * CLI (for example an older checkout) for a side-by-side run. Last line: one JSON object.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { remainingLength } from '../../hub/test/helpers/mqtt-remaining-length.js';
import { BenchOutput } from './bench-output.js';

const ANNOUNCED_BYTES = 200 * 1024 * 1024;
const CONNECTIONS = 3;
const GIVE_UP_MS = 10_000;

const { values } = parseArgs({ options: { 'hub-bin': { type: 'string' } } });
const hubBin = values['hub-bin'] ?? fileURLToPath(new URL('../../hub/bin/fedfleet.mjs', import.meta.url));
const out = new BenchOutput();

function floodOnce(port: number): Promise<{ bytesWritten: number; closedByHub: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(64 * 1024);
    let written = 0;
    let closed = false;
    const timer = setTimeout(() => {
      if (closed) return;
      closed = true;
      socket.destroy();
      resolve({ bytesWritten: written, closedByHub: false });
    }, GIVE_UP_MS);
    socket.on('connect', () => {
      const header = Buffer.concat([Buffer.from([0x10]), remainingLength(ANNOUNCED_BYTES)]); // CONNECT
      socket.write(header);
      written += header.length;
      const pump = (): void => {
        while (!closed && written < ANNOUNCED_BYTES) {
          written += chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      resolve({ bytesWritten: written, closedByHub: written < ANNOUNCED_BYTES });
    });
  });
}

const dataDir = mkdtempSync(join(tmpdir(), 'fedfleet-bench-flood-'));
const hub = spawn(process.execPath, [hubBin, 'hub', '--data-dir', dataDir, '--http-port', '0', '--mqtt-port', '0', '--host', '127.0.0.1', '--log-level', 'error'], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let banner = '';
hub.stderr.on('data', (chunk: Buffer) => (banner += chunk.toString()));
try {
  for (let waited = 0; !banner.includes('admin token'); waited += 100) {
    if (waited > 60_000 || hub.exitCode !== null) throw new Error(`the hub did not start:\n${banner}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const port = Number(/MQTT broker\s+mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(banner)![1]);
  const residentMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${hub.pid}/status`, 'utf8'))![1]) / 1024;
  const before = residentMiB();
  const floods = await Promise.all(Array.from({ length: CONNECTIONS }, () => floodOnce(port)));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = residentMiB();
  for (const [i, f] of floods.entries()) {
    out.line(`connection ${i + 1}: wrote ${(f.bytesWritten / 2 ** 20).toFixed(1)} MiB of ${ANNOUNCED_BYTES / 2 ** 20} MiB, ${f.closedByHub ? 'closed by the hub' : 'not closed'}`);
  }
  out.line(`hub resident memory: ${before.toFixed(1)} MiB before, ${after.toFixed(1)} MiB after`);
  out.line(JSON.stringify({
    bench: 'connect-flood', hubBin, connections: CONNECTIONS, announcedBytes: ANNOUNCED_BYTES,
    bytesWritten: floods.map((f) => f.bytesWritten), closedByHub: floods.map((f) => f.closedByHub),
    rssBeforeMiB: Number(before.toFixed(1)), rssAfterMiB: Number(after.toFixed(1)),
    anchor: 'before the stream guard: ~210 MB → ~800 MB resident, every announced byte accepted',
  }));
} finally {
  hub.kill('SIGTERM');
  await new Promise((resolve) => hub.once('close', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
