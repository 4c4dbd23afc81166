/**
 * Output of a benchmark: result lines on stdout, and a progress bar on stderr while stderr is a terminal. The bar
 * is erased before each line and redrawn after it, so the two never garble each other. Nothing but lines reaches
 * a pipe, and the caller's last line (JSON) stays the last line of stdout.
 */
export class BenchOutput {
  private readonly tty = Boolean(process.stderr.isTTY);
  private bar: { label: string; done: number; total: number } | undefined;

  /** A result line on stdout. */
  line(text: string): void {
    this.clearBar();
    process.stdout.write(`${text}\n`);
    this.drawBar();
  }

  /** A diagnostic on stderr. */
  note(text: string): void {
    this.clearBar();
    process.stderr.write(`${text}\n`);
    this.drawBar();
  }

  /** Shows or updates the progress bar (terminals only). */
  progress(label: string, done: number, total: number): void {
    if (!this.tty) return;
    this.bar = { label, done, total };
    this.drawBar();
  }

  endProgress(): void {
    this.clearBar();
    this.bar = undefined;
  }

  private clearBar(): void {
    if (this.tty && this.bar) process.stderr.write('\r\u001b[K');
  }

  private drawBar(): void {
    if (!this.tty || !this.bar) return;
    const { label, done, total } = this.bar;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}\u001b[K`);
  }
}

export const pct = (x: number | null | undefined, digits = 2): string =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : `${(100 * x).toFixed(digits)}%`;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}
