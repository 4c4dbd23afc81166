/**
 * Child processes for end-to-end tests. Each runs in its own process group, so teardown can end it together with
 * anything it started (npm → sh → node), and teardown checks with `ps` that nothing of the group is left.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FEDFLEET_BIN = fileURLToPath(new URL('../../../hub/bin/fedfleet.mjs', import.meta.url));

/** The parent environment without `FEDFLEET_*` settings (they would leak into the processes under test). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1' };
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('FEDFLEET_')) env[key] = value;
  return { ...env, ...extra };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TrackedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<Exit>;
  /** Resolves with the first match of `pattern` in stdout or stderr (rejects on timeout or early exit). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Signals the whole process group. */
  signal(signal: NodeJS.Signals): void;
}

const live = new Set<number>();
// Last resort when the test process itself goes away: no group outlives it.
process.once('exit', () => {
  for (const pgid of live) killGroup(pgid, 'SIGKILL');
});

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** Live (non-zombie) processes of a process group, from `ps`. */
export function groupMembers(pgid: number): number[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,stat='], { encoding: 'utf8' });
  return table
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, group, stat]) => pid && Number(group) === pgid && !stat?.startsWith('Z'))
    .map(([pid]) => Number(pid));
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/**
 * Starts `command` in a new process group. When the test ends the group gets SIGTERM, then SIGKILL after 5 s, and
 * the test fails if `ps` still lists a member.
 */
export function spawnTracked(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): TrackedProcess {
  const child = spawn(command, args, { cwd: options.cwd ?? REPO_ROOT, env: options.env ?? cleanEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = child.pid;
  live.add(pid);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => void (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => void (err += chunk));
  let done = false;
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => {
    done = true;
    resolve({ code, signal });
  }));

  onTestFinished(async () => {
    killGroup(pid, 'SIGTERM');
    if (!(await waitUntil(() => done && groupMembers(pid).length === 0, 5000))) killGroup(pid, 'SIGKILL');
    const gone = await waitUntil(() => groupMembers(pid).length === 0, 5000);
    live.delete(pid);
    if (!gone) throw new Error(`process group ${pid} (${command} ${args.join(' ')}) survived SIGKILL: ${groupMembers(pid).join(', ')}`);
  });

  return {
    child,
    pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForOutput(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = out.match(pattern) ?? err.match(pattern);
        if (match) return match;
        if (done) throw new Error(`${command} exited before printing ${pattern}\nstdout: ${out}\nstderr: ${err}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}\nstdout: ${out}\nstderr: ${err}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    signal(signal) {
      killGroup(pid, signal);
    },
  };
}

/** Runs a command to completion (tracked like {@link spawnTracked}). */
export async function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Exit & { stdout: string; stderr: string }> {
  const proc = spawnTracked(command, args, options);
  const exit = await proc.exited;
  return { ...exit, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** `node hub/bin/fedfleet.mjs …` — what `npx fedfleet …` runs. */
export function fedfleet(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return run(process.execPath, [FEDFLEET_BIN, ...args], options);
}

export function spawnFedfleet(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): TrackedProcess {
  return spawnTracked(process.execPath, [FEDFLEET_BIN, ...args], options);
}
