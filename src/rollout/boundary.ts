/**
 * Interaction-boundary detection, as the paper's reference code does it (`detect_code`,
 * `process_string`, `extract_code` in RUCAIBox/CIR@6d27817 verl/verl-main/verl/workers/rollout/vllm_rollout/code_excute.py):
 * the FIRST opening fence "```" + tag decides; its code runs to the next "```" (nested backticks
 * included, non-greedy); a block whose code is empty after Python's `str.strip()` makes the whole
 * segment final, even if a later block has code. Beside it, the heuristic stop-string boundary the
 * paper compares with (`BoundaryMode`). Pure functions, no I/O.
 */

import { stopEnd } from '../core/stop-strings.js';

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

/** Every complete block in `text`, empty ones included, in order (Python's `re.finditer` with the reference's pattern). */
export function completeCodeBlocks(text: string, options: FenceOptions = {}): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let offset = 0;
  while (true) {
    const scan = scanForCodeBlock(text.slice(offset), options);
    if (scan.kind !== 'block' && scan.kind !== 'empty') return blocks;
    const { block } = scan;
    blocks.push({ ...block, start: block.start + offset, codeStart: block.codeStart + offset, codeEnd: block.codeEnd + offset, end: block.end + offset });
    offset += block.end;
  }
}

/** Number of complete, non-empty blocks anywhere in `text` (the paper's `avg_python_code_num` counts pairs). */
export function countCodeBlocks(text: string, options: FenceOptions = {}): number {
  return completeCodeBlocks(text, options).filter((block) => pythonStrip(block.code) !== '').length;
}

/**
 * Where a segment ends. `precise` (the paper's "precisely matching interaction boundaries"): at the
 * closing fence of the first complete python block with code. `stop-strings`: the heuristic the
 * reference code used before it, kept there as commented-out code (RUCAIBox/CIR@6d27817:
 * evaluation/run.py lines 170-171 append the stop words "```\n\n" and "```output"; lines 414-415 and
 * verl/verl-main/verl/workers/rollout/vllm_rollout/vllm_rollout_spmd.py lines 542 and 606-610 test
 * `stop_reason != "```output"` / `!= "```\n\n"` before executing; run.py line 421 runs the LAST block,
 * `pred.split("```python")[-1]`).
 */
export type BoundaryMode = 'precise' | 'stop-strings';
export const BOUNDARY_MODES: readonly BoundaryMode[] = ['precise', 'stop-strings'];

/**
 * The heuristic's stop strings, each with the text that opens the output block after it: the paper's
 * injection starts "\n```output\n"; after "```output" the model has opened the block itself, so the
 * injection completes it; after "```\n\n" its blank line stands for the leading "\n".
 */
export const HEURISTIC_STOPS: Readonly<Record<string, string>> = Object.freeze({ '```output': '\n', '```\n\n': '```output\n' });
const HEURISTIC_STOP_STRINGS = Object.keys(HEURISTIC_STOPS);

/** What opens the injected output block after a segment's boundary (the paper's text for the precise one). */
export function outputOpening(stop: string | null): string {
  return stop === null ? '\n```output\n' : (HEURISTIC_STOPS[stop] as string);
}

export interface StopStringHit {
  stop: string;
  /** Offset of the stop string. */
  start: number;
  /** Offset right after it: the segment keeps `text.slice(0, end)` (vLLM with the stop string included). */
  end: number;
  /**
   * The block to run: the last complete python block, read through the stop string's own "```" (which
   * may close it), when the first one has code (the reference's `detect_code`); null makes the segment final.
   */
  block: CodeBlock | null;
}

/** The first heuristic stop string that text from `from` on completes, and the block it would run. */
export function findStopString(text: string, from: number, options: FenceOptions = {}): StopStringHit | null {
  const hit = stopEnd(text, HEURISTIC_STOP_STRINGS, from);
  if (hit.stop === null) return null;
  const start = hit.end - hit.stop.length;
  const blocks = completeCodeBlocks(text.slice(0, start + FENCE.length), options);
  const block = blocks.length > 0 && pythonStrip(blocks[0]!.code) !== '' ? blocks.at(-1)! : null;
  return { stop: hit.stop, start, end: hit.end, block };
}

export interface SegmentBoundary {
  /** Offset where the kept text ends. */
  end: number;
  /** The block to execute; null when the segment is final. */
  block: CodeBlock | null;
  /** The heuristic stop string that ended the segment (`stop-strings` mode only). */
  stop: string | null;
}

/** Watches a growing segment text for its boundary under one mode. */
export class BoundaryDetector {
  private active = true;

  constructor(
    readonly mode: BoundaryMode,
    private readonly fence: FenceOptions,
  ) {}

  /** Whether a new piece of text can complete a boundary (cheap pre-check before scanning). */
  mayDecide(piece: string): boolean {
    if (!this.active || piece === '') return false;
    if (this.mode === 'stop-strings') return true;
    // A fence can only complete on a backtick (or, with strict tags, the whitespace after the tag).
    return piece.includes('`') || (this.fence.strictTag === true && /\s/.test(piece));
  }

  /** The boundary in `text`, whose characters before `from` were checked already; null while there is none. */
  check(text: string, from: number): SegmentBoundary | null {
    if (!this.active) return null;
    if (this.mode === 'stop-strings') {
      const hit = findStopString(text, from, this.fence);
      return hit ? { end: hit.end, block: hit.block, stop: hit.stop } : null;
    }
    const scan = scanForCodeBlock(text, this.fence);
    // An empty first block makes the segment final: nothing later counts.
    if (scan.kind === 'empty') this.active = false;
    return scan.kind === 'block' ? { end: scan.block.end, block: scan.block, stop: null } : null;
  }
}
