/**
 * Child processes of a benchmark, demo or end-to-end test, tracked so that none outlives its parent: stopped
 * gracefully (SIGTERM, then SIGKILL after a grace period) on normal shutdown, SIGINT, SIGTERM, SIGHUP, an uncaught
 * error, and killed outright by the last-resort `exit` handler.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

/** A spawned child with its recent output kept for error reports. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** The last lines of stdout and stderr, interleaved. */
  tail(lines?: number): string;
  /** Resolves with the first stdout or stderr line matching `pattern`; rejects if the child exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5,000); resolves once the child has exited. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: boolean;
}

const TAIL_LINES = 200;
const WATCHDOG_URL = new URL('./parent-watchdog.mjs', import.meta.url).href;
const live = new Set<Child>();
const cleanups = new Set<() => void>();
let handlersInstalled = false;

/**
 * Registers a synchronous cleanup (e.g. removing a temporary folder) run after the children are stopped on a
 * signal or at exit; returns a function that unregisters it.
 */
export function onCleanup(fn: () => void): () => void {
  installHandlers();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

function runCleanups(): void {
  for (const fn of [...cleanups]) {
    cleanups.delete(fn);
    try {
      fn();
    } catch {
      // Best effort: the process is going away.
    }
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Last resort: `exit` handlers must be synchronous, so no grace period here.
  process.on('exit', () => {
    for (const child of live) child.process.kill('SIGKILL');
    runCleanups();
  });
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // `on`, not `once`: under `tsx` (and npm) a Ctrl+C arrives twice, from the terminal's process group and
    // relayed by the parent; a second delivery without a handler would kill this process before its cleanup.
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\n${signal}: stopping ${live.size} child process(es)\n`);
      void stopAllChildren(3_000).finally(() => {
        runCleanups();
        process.exit(130);
      });
    });
  }
}

/** Stops every live child (in parallel). */
export async function stopAllChildren(graceMs = 5_000): Promise<void> {
  await Promise.all([...live].map((child) => child.stop(graceMs)));
}

/** Number of children still running. */
export function liveChildren(): number {
  return live.size;
}

/**
 * Spawns `command args` with piped output. A `node` child (`command` = `process.execPath`) also gets the parent
 * watchdog, so it stops itself if this process dies without stopping it. `echo` copies each output line to this process's stderr, prefixed
 * with the child's name.
 */
export function spawnChild(name: string, command: string, args: readonly string[], options: SpawnOptions & { echo?: boolean } = {}): Child {
  installHandlers();
  const { echo = false, ...spawnOptions } = options;
  // stdin is a pipe the child never reads: it closes when this process dies, which the watchdog preloaded into
  // node children (parent-watchdog.mjs) turns into a shutdown.
  const nodeArgs = command === process.execPath ? ['--import', WATCHDOG_URL, ...args] : args;
  const proc = spawn(command, nodeArgs, { ...spawnOptions, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let exited = false;
  const exit = once(proc, 'exit').then(() => {
    exited = true;
    live.delete(child);
  });
  const onData = (stream: NodeJS.ReadableStream) => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (lines.length > TAIL_LINES) lines.shift();
        if (echo) process.stderr.write(`[${name}] ${line}\n`);
        for (const listener of listeners) listener(line);
      }
    });
  };
  onData(proc.stdout!);
  onData(proc.stderr!);

  const child: Child = {
    name,
    process: proc,
    get exited() {
      return exited;
    },
    tail: (n = 30) => lines.slice(-n).join('\n'),
    waitForLine(pattern, timeoutMs) {
      const seen = lines.map((l) => l.match(pattern)).find((m) => m);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          listeners.delete(listener);
          proc.off('exit', onExit);
        };
        const listener = (line: string) => {
          const match = line.match(pattern);
          if (match) {
            done();
            resolve(match);
          }
        };
        const onExit = (code: number | null, signal: string | null) => {
          done();
          reject(new Error(`${name} exited (${signal ?? code}) before printing ${pattern}:\n${child.tail()}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${child.tail()}`));
        }, timeoutMs);
        listeners.add(listener);
        proc.on('exit', onExit);
      });
    },
    async stop(graceMs = 5_000) {
      if (exited) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
  live.add(child);
  proc.on('error', () => {}); // spawn failures surface as 'exit' too
  return child;
}
