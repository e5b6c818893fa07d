/**
 * The text fed back to the model after a code block. The default reproduces the CIR reference
 * (RUCAIBox/CIR `code_excute.py`): stripped stdout cut to 200 + "..." + 200 characters, the last
 * traceback line for errors, `Timeout Error` for timeouts. Its quirks are options.
 */
import type { ExecutionOutcome } from '../core/execution.js';

export interface FeedbackOptions {
  /**
   * What a block that printed nothing yields.
   * - `empty` (default): the empty string, i.e. what the program printed.
   * - `reference`: the reference's error text (its fallback path crashes on a list and reports a TypeError).
   * - `note`: a short explicit note, `(no output)`.
   */
  emptyOutput?: 'empty' | 'reference' | 'note';
  /** Characters kept from each end when the text is longer than twice this (reference: 200). */
  headTailChars?: number;
  /** Prepend what the program printed before an error (the reference discards it). */
  stdoutOnError?: boolean;
}

/** The reference's report for a block without output (regex 2026.x; older versions word it differently). */
export const REFERENCE_EMPTY_OUTPUT_ERROR = "TypeError: a bytes-like object is required, not 'list'";
export const NO_OUTPUT_NOTE = '(no output)';

/** `s[:n] + "..." + s[-n:]` when longer than 2n, as the reference does after `strip()`. */
export function truncateMiddle(text: string, headTailChars = 200): string {
  const chars = Array.from(text); // by code point, like Python's str slicing
  if (chars.length <= 2 * headTailChars) return text;
  return `${chars.slice(0, headTailChars).join('')}...${chars.slice(-headTailChars).join('')}`;
}

/** The reference rejects code that calls `input(` or `os.system(` before running it, reporting `RuntimeError`. */
export function referenceBannedCall(code: string): boolean {
  return /(\s|^)?input\(/.test(code) || /(\s|^)?os.system\(/.test(code);
}

export function formatFeedback(outcome: ExecutionOutcome, options: FeedbackOptions = {}): string {
  const keep = options.headTailChars ?? 200;
  const cut = (text: string) => truncateMiddle(text.trim(), keep);
  switch (outcome.kind) {
    case 'ok':
    case 'output_limit': {
      const text = cut(outcome.stdout);
      if (text !== '') return text;
      if (options.emptyOutput === 'reference') return REFERENCE_EMPTY_OUTPUT_ERROR;
      if (options.emptyOutput === 'note') return NO_OUTPUT_NOTE;
      return '';
    }
    case 'error': {
      const report = cut(outcome.lastLine);
      const before = options.stdoutOnError ? outcome.stdout.trim() : '';
      return before ? cut(`${before}\n${outcome.lastLine.trim()}`) : report;
    }
    case 'timeout':
      return 'Timeout Error';
    case 'memory':
      return 'MemoryError';
    case 'crash':
      return `Crash Error: the process was killed by ${outcome.signal}`;
    case 'infra_error':
      return `Sandbox Error: ${outcome.reason}`;
  }
}
