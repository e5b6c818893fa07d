/**
 * Server-sent events, the part OpenAI-compatible servers use: events separated by a blank line,
 * payload in `data:` lines (several are joined by "\n"), comments (":") and other fields ignored.
 */
export class SseParser {
  private buffer = '';
  private carriage = '';

  /** Feeds decoded text; returns the data payloads of the events it completed. */
  push(text: string): string[] {
    // A "\r" at the end of a chunk may be half of "\r\n": hold it until the next chunk decides.
    let raw = this.carriage + text;
    this.carriage = '';
    if (raw.endsWith('\r')) {
      this.carriage = '\r';
      raw = raw.slice(0, -1);
    }
    this.buffer += raw.replace(/\r\n?/g, '\n');
    const payloads: string[] = [];
    let boundary: number;
    while ((boundary = this.buffer.indexOf('\n\n')) !== -1) {
      const event = this.buffer.slice(0, boundary);
      this.buffer = this.buffer.slice(boundary + 2);
      const data = event
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''));
      if (data.length > 0) payloads.push(data.join('\n'));
    }
    return payloads;
  }

  /** True when an event was started but not finished (a truncated stream). */
  get pending(): boolean {
    return (this.buffer + this.carriage).trim().length > 0;
  }
}
