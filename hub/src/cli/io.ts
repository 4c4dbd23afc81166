/** Where a CLI command reads its environment and writes its output (injected, so commands are testable). */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

let brokenPipeHandled = false;

export function processIo(): CliIo {
  if (!brokenPipeHandled) {
    brokenPipeHandled = true;
    for (const stream of [process.stdout, process.stderr]) stream.on('error', exitOnBrokenPipe);
  }
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/**
 * A reader that stops reading (`fedfleet fleet health | head -1`) is not a failure of the command: end quietly, as
 * Unix tools do on SIGPIPE, instead of an unhandled EPIPE stack trace.
 */
function exitOnBrokenPipe(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
}

export function println(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}

/** `--json` output: exactly one JSON value on stdout. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
