/**
 * A progress indicator for long CLI operations: a redrawn bar when stderr is a terminal, plain lines (at most one
 * per 10 %) otherwise, so logs and CI output stay readable.
 */
export interface ProgressOptions {
  /** Units of work in total (e.g. bytes, rounds). */
  total: number;
  label: string;
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Formats a quantity for display (e.g. bytes). Default String. */
  format?: (value: number) => string;
  /** Clock for redraw throttling (tests). Default Date.now. */
  now?: () => number;
}

export interface Progress {
  /** Sets the amount done so far, optionally with a new label. */
  update(done: number, label?: string): void;
  /** Finishes the line with an optional closing message. */
  finish(message?: string): void;
}

const REDRAW_MS = 100;

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const format = options.format ?? String;
  const now = options.now ?? Date.now;
  const tty = Boolean(stream.isTTY);
  let label = options.label;
  let done = 0;
  let lastDrawMs = -Infinity;
  let lastStep = -1;
  let finished = false;

  const fraction = () => (options.total > 0 ? Math.min(1, Math.max(0, done / options.total)) : 1);

  function drawBar(): void {
    const percent = Math.floor(fraction() * 100);
    const suffix = ` ${String(percent).padStart(3)}% ${format(done)}/${format(options.total)}`;
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - suffix.length - 4));
    const filled = Math.round(fraction() * width);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${suffix}\u001b[K`);
  }

  return {
    update(value, newLabel) {
      if (finished) return;
      done = value;
      const labelChanged = newLabel !== undefined && newLabel !== label;
      if (newLabel !== undefined) label = newLabel;
      if (tty) {
        if (labelChanged || now() - lastDrawMs >= REDRAW_MS || done >= options.total) {
          lastDrawMs = now();
          drawBar();
        }
        return;
      }
      const step = Math.floor(fraction() * 10);
      if (step !== lastStep || labelChanged) {
        lastStep = step;
        stream.write(`${label}: ${Math.floor(fraction() * 100)}% (${format(done)}/${format(options.total)})\n`);
      }
    },
    finish(message) {
      if (finished) return;
      finished = true;
      if (tty) {
        drawBar();
        stream.write(message ? ` ${message}\n` : '\n');
      } else if (message) {
        stream.write(`${label}: ${message}\n`);
      }
    },
  };
}
