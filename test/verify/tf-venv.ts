/**
 * The Python virtual environment with TensorFlow that verify:tflite runs Google's implementation in:
 * `${FEDFLEET_TF_VENV:-.venv-tf}` (relative paths from the repository root), created when missing with
 * `python3 -m venv` and `pip install tensorflow-cpu` (about 4 minutes and 1.6 GB, so never part of `npm test`).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../support/paths.js';
import type { BenchOutput } from '../bench/bench-output.js';

/** The local package mirror of these machines: pip's default index is unreachable here and hangs. */
const LOCAL_INDEX = '/opt/pypi/simple';
const LOCAL_EXTRA_INDEX = '/opt/pypi-more/simple';

export function tfVenvDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(REPO_ROOT, env.FEDFLEET_TF_VENV || '.venv-tf');
}

/** pip's index options: the local mirror when the caller set no index of their own and the mirror exists. */
export function pipIndexArgs(env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = existsSync): string[] {
  if (env.PIP_INDEX_URL || !exists(LOCAL_INDEX)) return [];
  const args = ['--index-url', `file://${LOCAL_INDEX}`];
  if (exists(LOCAL_EXTRA_INDEX)) args.push('--extra-index-url', `file://${LOCAL_EXTRA_INDEX}`);
  return args;
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
}

/**
 * Runs a command to its end. stdout is captured, or copied to this process's stderr with `showStdout` (pip's
 * progress); stderr goes to `stderrPath` when given (TensorFlow is chatty), else to this process's stderr. Lines of
 * stderr that match `echo` are also shown as notes.
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { out: BenchOutput; stderrPath?: string; echo?: RegExp; showStdout?: boolean },
): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    const log = options.stderrPath ? createWriteStream(options.stderrPath) : undefined;
    let stdout = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (options.showStdout) process.stderr.write(chunk);
      else stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (log) log.write(chunk);
      else process.stderr.write(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (options.echo?.test(line)) options.out.note(line);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      log?.end();
      resolvePromise({ code, stdout });
    });
  });
}

async function hasTensorflow(python: string, out: BenchOutput): Promise<boolean> {
  const probe = 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("tensorflow") else 1)';
  return (await runProcess(python, ['-c', probe], { out })).code === 0;
}

/** The venv's python, after creating the venv and installing tensorflow-cpu into it when either is missing. */
export async function ensureTfVenv(out: BenchOutput): Promise<string> {
  const dir = tfVenvDir();
  const python = join(dir, 'bin', 'python');
  if (!existsSync(python)) {
    out.note(`creating the Python venv ${dir}`);
    const created = await runProcess('python3', ['-m', 'venv', dir], { out, showStdout: true });
    if (created.code !== 0) throw new Error(`python3 -m venv ${dir} failed (exit ${created.code})`);
  }
  if (!(await hasTensorflow(python, out))) {
    const args = ['-m', 'pip', 'install', ...pipIndexArgs(), 'tensorflow-cpu'];
    out.note(`installing TensorFlow into ${dir} (about 4 minutes, 1.6 GB): pip ${args.slice(2).join(' ')}`);
    const installed = await runProcess(python, args, { out, showStdout: true });
    if (installed.code !== 0) throw new Error(`pip install tensorflow-cpu failed (exit ${installed.code})`);
  }
  return python;
}
