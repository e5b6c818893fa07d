/**
 * Text that a model or a program wrote, made safe to print on a terminal: control characters other
 * than newline and tab (escape sequences can retitle the window, rewrite the screen, or on some
 * terminals write files or paste commands), C1 controls, DEL, a carriage return that would overwrite
 * the line, and the Unicode bidirectional overrides that reorder what is shown are printed as
 * visible `\xNN` / `\uNNNN` escapes. `--raw-output` prints the text as it is.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /\r(?!\n)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The printer for untrusted text: escaped, unless the user asked for raw output. */
export function untrustedTextPrinter(raw: boolean): (text: string) => string {
  return raw ? (text) => text : terminalSafe;
}
