/** Runs the `fedfleet` CLI's main() in process with captured output (same code path as the binary, minus tsx). */
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  env?: Record<string, string>;
  /** Make stderr a terminal (progress bars are drawn). Default false. */
  tty?: boolean;
  cwd?: string;
}

export async function runCli(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (chunk: string) => ((stdout += chunk), true) } as never,
    stderr: { isTTY: options.tty ?? false, columns: 120, write: (chunk: string) => ((stderr += chunk), true) } as never,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  });
  return { code, stdout, stderr };
}
