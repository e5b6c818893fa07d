/**
 * A progress bar for long work, written to stderr. On a terminal it redraws one line; elsewhere
 * (CI logs, pipes) it prints a plain line at most every few seconds so logs stay readable.
 */
export interface ProgressOptions {
  label: string;
  total: number;
  stream?: NodeJS.WriteStream;
  /** Minimum milliseconds between non-terminal log lines. */
  logIntervalMs?: number;
  /** Turns the bar off (for --json or --quiet runs). */
  silent?: boolean;
}

export class ProgressBar {
  private done = 0;
  private readonly startedAt = Date.now();
  private lastLogAt = 0;
  private suffix = '';
  private readonly stream: NodeJS.WriteStream;
  private readonly isTerminal: boolean;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.isTerminal = Boolean(this.stream.isTTY);
  }

  /** Advances by `count` and sets the text shown after the bar (e.g. live accuracy). */
  tick(count = 1, suffix?: string): void {
    this.done += count;
    if (suffix !== undefined) this.suffix = suffix;
    this.render(false);
  }

  update(done: number, suffix?: string): void {
    this.done = done;
    if (suffix !== undefined) this.suffix = suffix;
    this.render(false);
  }

  finish(suffix?: string): void {
    if (suffix !== undefined) this.suffix = suffix;
    this.render(true);
  }

  private render(final: boolean): void {
    if (this.options.silent) return;
    const now = Date.now();
    const { total, label } = this.options;
    const fraction = total > 0 ? Math.min(1, this.done / total) : 0;
    const elapsed = (now - this.startedAt) / 1000;
    const eta = this.done > 0 && fraction < 1 ? (elapsed / this.done) * (total - this.done) : 0;
    const text = `${label} ${this.done}/${total} ${(fraction * 100).toFixed(0)}% ${formatSeconds(elapsed)}${eta > 0 ? ` eta ${formatSeconds(eta)}` : ''}${this.suffix ? ` ${this.suffix}` : ''}`;
    if (this.isTerminal) {
      const width = 24;
      const filled = Math.round(fraction * width);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
      this.stream.write(`\r\x1b[2K${bar} ${text}${final ? '\n' : ''}`);
    } else if (final || now - this.lastLogAt >= (this.options.logIntervalMs ?? 5000)) {
      this.lastLogAt = now;
      this.stream.write(`${text}\n`);
    }
  }
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}
