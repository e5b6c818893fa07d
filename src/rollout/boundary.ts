/**
 * Interaction-boundary detection, as the paper's reference code does it (`detect_code`,
 * `process_string`, `extract_code` in RUCAIBox/CIR@6d27817 verl/verl-main/verl/workers/rollout/vllm_rollout/code_excute.py):
 * the FIRST opening fence "```" + tag decides; its code runs to the next "```" (nested backticks
 * included, non-greedy); a block whose code is empty after Python's `str.strip()` makes the whole
 * segment final, even if a later block has code. Pure functions, no I/O.
 */

export interface FenceOptions {
  /** Tags that open a code block, matched case-sensitively. Default `['python']` (the paper's). */
  tags?: readonly string[];
  /**
   * Require whitespace right after the tag, so "```python3" or "```pythonic" do not open a block.
   * Default false: the paper's regex `"```python(.*?)```"` accepts any continuation.
   */
  strictTag?: boolean;
}

export interface CodeBlock {
  tag: string;
  /** Offset of the opening fence. */
  start: number;
  /** Offset right after the tag, where the code starts. */
  codeStart: number;
  /** Offset of the closing fence. */
  codeEnd: number;
  /** Offset right after the closing fence: the paper keeps `text.slice(0, end)`. */
  end: number;
  /** Text between the tag and the closing fence, unstripped (as the paper's `extract_code`). */
  code: string;
}

export type BoundaryScan =
  /** The first block is complete and has code: cut at `block.end` and execute. */
  | { kind: 'block'; block: CodeBlock }
  /** The first block is complete but empty: the segment is final, nothing later counts. */
  | { kind: 'empty'; block: CodeBlock }
  /** A block is open (or a tag is not yet decidable); more text may complete it. */
  | { kind: 'open'; start: number }
  | { kind: 'none' };

export const DEFAULT_FENCE_TAGS: readonly string[] = ['python'];
const FENCE = '```';

/** Python's `str.isspace()` set, so "empty code" means what it means to the reference code. */
export function isPythonWhitespace(char: string): boolean {
  const code = char.charCodeAt(0);
  return (
    (code >= 0x09 && code <= 0x0d) ||
    (code >= 0x1c && code <= 0x20) ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** Python's `str.strip()` with no arguments. */
export function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPythonWhitespace(text[start] as string)) start += 1;
  while (end > start && isPythonWhitespace(text[end - 1] as string)) end -= 1;
  return text.slice(start, end);
}

/** Earliest opening fence over all tags (longest tag wins a tie); `undecided` when strict and the text ends at the tag. */
function findOpening(
  text: string,
  tags: readonly string[],
  strictTag: boolean,
): { tag: string; start: number; codeStart: number } | { undecided: number } | null {
  let best: { tag: string; start: number; codeStart: number } | null = null;
  let undecided: number | null = null;
  for (const tag of tags) {
    const opener = FENCE + tag;
    let from = 0;
    while (true) {
      const start = text.indexOf(opener, from);
      if (start === -1) break;
      if (best !== null && start > best.start) break;
      const codeStart = start + opener.length;
      if (strictTag) {
        if (codeStart === text.length) {
          if (undecided === null || start < undecided) undecided = start;
          break;
        }
        if (!isPythonWhitespace(text[codeStart] as string)) {
          from = start + 1;
          continue;
        }
      }
      if (best === null || start < best.start || (start === best.start && tag.length > best.tag.length)) {
        best = { tag, start, codeStart };
      }
      break;
    }
  }
  if (undecided !== null && (best === null || undecided < best.start)) return { undecided };
  return best;
}

/** Classifies `text` (a model's segment so far) for the tool loop. */
export function scanForCodeBlock(text: string, options: FenceOptions = {}): BoundaryScan {
  const tags = options.tags ?? DEFAULT_FENCE_TAGS;
  const opening = findOpening(text, tags, options.strictTag ?? false);
  if (opening === null) return { kind: 'none' };
  if ('undecided' in opening) return { kind: 'open', start: opening.undecided };
  const codeEnd = text.indexOf(FENCE, opening.codeStart);
  if (codeEnd === -1) return { kind: 'open', start: opening.start };
  const block: CodeBlock = {
    tag: opening.tag,
    start: opening.start,
    codeStart: opening.codeStart,
    codeEnd,
    end: codeEnd + FENCE.length,
    code: text.slice(opening.codeStart, codeEnd),
  };
  return pythonStrip(block.code) === '' ? { kind: 'empty', block } : { kind: 'block', block };
}

/** The first complete code block when it has non-empty code, else null (the segment is final or incomplete). */
export function findCodeBlock(text: string, options: FenceOptions = {}): CodeBlock | null {
  const scan = scanForCodeBlock(text, options);
  return scan.kind === 'block' ? scan.block : null;
}

/** Number of complete, non-empty blocks anywhere in `text` (the paper's `avg_python_code_num` counts pairs). */
export function countCodeBlocks(text: string, options: FenceOptions = {}): number {
  let count = 0;
  let rest = text;
  while (true) {
    const scan = scanForCodeBlock(rest, options);
    if (scan.kind !== 'block' && scan.kind !== 'empty') return count;
    if (scan.kind === 'block') count += 1;
    rest = rest.slice(scan.block.end);
  }
}
