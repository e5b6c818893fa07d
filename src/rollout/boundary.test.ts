import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BoundaryDetector, completeCodeBlocks, countCodeBlocks, findCodeBlock, findStopString, outputOpening, pythonStrip, scanForCodeBlock } from './boundary.js';

// The reference code's functions (RUCAIBox/CIR@6d27817 verl/verl-main/verl/workers/rollout/vllm_rollout/code_excute.py), transcribed literally as the oracle.
const paperDetect = (pred: string): boolean => {
  const match = /```python([\s\S]*?)```/.exec(pred);
  return match !== null && pythonStrip(match[1] ?? '') !== '';
};
const paperCut = (s: string): string => {
  const i = s.indexOf('```python');
  if (i === -1) return s;
  const j = s.indexOf('```', i + '```python'.length);
  return j === -1 ? s : s.slice(0, j + 3);
};
// The regex group is the oracle for the code: the reference's `extract_code` (split on "```python")
// differs only when the closing fence overlaps a later "```python" ("```python x````python"),
// where it would run "x`". We run what the regex delimits; docs/rollout.md records this.
const paperCode = (pred: string): string => /```python([\s\S]*?)```/.exec(pred)?.[1] ?? '';

const fragments = ['```', '```python', '```python\n', 'python', '`', '``', '\n', ' ', 'print(1)', 'x', '```py', '```Python', '\t', '\u00a0', '````', '```output\n', '\ufeff'];
const modelText = fc.array(fc.constantFrom(...fragments), { maxLength: 14 }).map((parts) => parts.join(''));

test('findCodeBlock agrees with the paper regex, cut and extraction on arbitrary fence soup', () => {
  fc.assert(
    fc.property(modelText, (text) => {
      const block = findCodeBlock(text);
      assert.equal(block !== null, paperDetect(text));
      if (block) {
        assert.equal(text.slice(0, block.end), paperCut(text));
        assert.equal(block.code, paperCode(text));
        assert.ok(text.slice(0, block.end).endsWith('```'));
      }
    }),
    { numRuns: 3000 },
  );
});

test('stopping at the first prefix that completes a block keeps exactly what generate-then-cut keeps', () => {
  fc.assert(
    fc.property(modelText, (text) => {
      const full = scanForCodeBlock(text);
      let decidedAt: number | null = null;
      for (let length = 0; length <= text.length; length += 1) {
        const scan = scanForCodeBlock(text.slice(0, length));
        if (scan.kind === 'block' || scan.kind === 'empty') {
          decidedAt = length;
          // Once decided, the decision never changes as text grows.
          assert.deepEqual(scan, full);
          break;
        }
      }
      if (full.kind === 'block' || full.kind === 'empty') assert.equal(decidedAt, full.block.end);
      else assert.equal(decidedAt, null);
    }),
    { numRuns: 1500 },
  );
});

test('boundary cases named in the reference', () => {
  assert.equal(findCodeBlock('```py\nprint(1)\n```'), null, '```py is not python');
  assert.equal(findCodeBlock('```Python\nprint(1)\n```'), null, 'tags are case-sensitive');
  assert.equal(findCodeBlock('```python\nprint(1)\n'), null, 'unterminated');
  assert.equal(scanForCodeBlock('text ```python\nprint(1)').kind, 'open');
  const empty = scanForCodeBlock('```python\n  \n```\n```python\nprint(2)\n```');
  assert.equal(empty.kind, 'empty', 'an empty first block makes the segment final');
  assert.equal(findCodeBlock('```python```'), null);
  const nested = findCodeBlock('A\n```python\ns = "```"\nprint(s)\n```\n```output\nhallucinated\n```');
  assert.ok(nested);
  assert.equal(nested.code, '\ns = "', 'nested backticks close the block, as the non-greedy regex does');
  assert.equal(nested.end, 'A\n```python\ns = "```'.length);
  assert.equal(findCodeBlock('```python\nx = "``"\nprint(x)\n```')?.code, '\nx = "``"\nprint(x)\n', 'two backticks do not close');
  const block = findCodeBlock('Let me compute.\n```python\nprint(2+2)\n```\nThe answer is 4.');
  assert.ok(block);
  assert.equal(block.code, '\nprint(2+2)\n');
  assert.equal(block.tag, 'python');
  assert.equal(findCodeBlock('```python3\nprint(1)\n```')?.code, '3\nprint(1)\n', 'the paper accepts python3 (and runs "3")');
  assert.equal(findCodeBlock('```python3\nprint(1)\n```', { strictTag: true }), null);
  assert.equal(scanForCodeBlock('```python', { strictTag: true }).kind, 'open', 'undecided until the next character');
  assert.equal(findCodeBlock('```pythonic\n```python\nprint(1)\n```', { strictTag: true })?.code, '\nprint(1)\n');
});

test('configurable tags: earliest fence wins, then the longest tag at the same place', () => {
  const tags = ['py', 'python'];
  assert.equal(findCodeBlock('```python\nprint(1)\n```', { tags })?.tag, 'python');
  assert.equal(findCodeBlock('```py\nprint(1)\n```\n```python\nprint(2)\n```', { tags })?.code, '\nprint(1)\n');
  assert.equal(findCodeBlock('```sage\nx\n```', { tags: ['sage'] })?.code, '\nx\n');
});

test('pythonStrip follows str.strip: NBSP and \\x1c are whitespace, BOM is not', () => {
  assert.equal(pythonStrip('\u00a0\x1c x \t\n'), 'x');
  assert.equal(pythonStrip('\ufeff'), '\ufeff');
  assert.equal(countCodeBlocks('```python\na\n```\n```python\n\n```\n```python\nb\n```'), 2);
});

test('incremental decoding (byte fast path and window path) reproduces decode() on arbitrary ids', async () => {
  const { loadHfTokenizer } = await import('../tokenizers/index.js');
  const { qwen3TokenizerDir } = await import('../tokenizers/testing/qwen3.js');
  const { IncrementalDecoder } = await import('./incremental-decoder.js');
  const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());
  const windowOnly = { name: 'w', vocabSize: tokenizer.vocabSize, eosTokenId: tokenizer.eosTokenId, encode: (t: string) => tokenizer.encode(t), decode: (ids: readonly number[]) => tokenizer.decode(ids) };
  const sample = tokenizer.encode('é😀 ∑ x² ```python\nprint("日本")\n```\n\n') ;
  const sentinel = tokenizer.encode('x')[0] as number;
  // Byte fast path: exact on arbitrary ids (invalid UTF-8 included) once a final ASCII token flushes it.
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constantFrom(...sample), fc.integer({ min: 0, max: 151668 })), { maxLength: 30 }), (ids) => {
      const decoder = new IncrementalDecoder(tokenizer);
      for (const id of [...ids, sentinel]) decoder.push(id);
      assert.equal(decoder.text, tokenizer.decode([...ids, sentinel]));
      assert.equal(decoder.ends.length, ids.length + 1);
      assert.equal(decoder.ends.at(-1), decoder.text.length);
    }),
    { numRuns: 300 },
  );
  // Window path (any tokenizer): exact on the encodings of arbitrary text, split characters included.
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (text) => {
      const decoder = new IncrementalDecoder(windowOnly);
      const ids = tokenizer.encode(text);
      for (const id of ids) decoder.push(id);
      assert.equal(decoder.text, tokenizer.decode(ids));
    }),
    { numRuns: 300 },
  );
});

test('a token that starts with a byte-order mark keeps it, first or after a flush (fast-check counterexample [[18206]])', async () => {
  const { loadHfTokenizer } = await import('../tokenizers/index.js');
  const { qwen3TokenizerDir } = await import('../tokenizers/testing/qwen3.js');
  const { IncrementalDecoder } = await import('./incremental-decoder.js');
  const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());
  // Qwen3 id 18206 is U+FEFF followed by "namespace"; a default TextDecoder drops a leading BOM.
  assert.equal(tokenizer.decode([18206]), '\ufeffnamespace');
  const sentinel = tokenizer.encode('x')[0] as number;
  const unknown = tokenizer.vocabSize + 1000;
  for (const ids of [[18206, sentinel], [sentinel, 18206, sentinel], [sentinel, unknown, 18206, sentinel]]) {
    const decoder = new IncrementalDecoder(tokenizer);
    for (const id of ids) decoder.push(id);
    assert.equal(decoder.text, tokenizer.decode(ids), `ids ${ids.join(',')}`);
    assert.equal(decoder.ends.at(-1), decoder.text.length);
  }
});

test('endsOnCharacterBoundary: true only when no partial character can be pending', async () => {
  const { endsOnCharacterBoundary } = await import('./incremental-decoder.js');
  const bytes = (...values: number[]) => Uint8Array.from(values);
  assert.equal(endsOnCharacterBoundary(bytes(0x61)), true);
  assert.equal(endsOnCharacterBoundary(bytes(0xe2, 0x82, 0xac)), true); // €
  assert.equal(endsOnCharacterBoundary(bytes(0x61, 0xe2, 0x82)), false); // € cut
  assert.equal(endsOnCharacterBoundary(bytes(0xf0, 0x9f, 0x98, 0x80)), true); // 😀
  assert.equal(endsOnCharacterBoundary(bytes(0x82, 0xac)), false); // continuation bytes only: unknown
  assert.equal(endsOnCharacterBoundary(bytes(0xc3)), false);
  assert.equal(endsOnCharacterBoundary(bytes(0xff)), false);
  assert.equal(endsOnCharacterBoundary(bytes()), false);
});

// The heuristic boundary's oracle: vLLM ends generation at the first stop string the new text
// completes, checked after every token (vllm-project/vllm vllm/v1/engine/detokenizer.py
// `check_stop_strings`; here after every character, which agrees unless one token completes two stop
// strings), and the reference's earlier code ran the last python block when the first had code
// (RUCAIBox/CIR@6d27817 evaluation/run.py lines 170-171, 414-421). Our one choice on top: the stop
// string is kept, so its own "```" may close the block it ends.
const HEURISTIC = ['```output', '```\n\n'];
const oracleStop = (text: string): { stop: string; end: number } | null => {
  for (let length = 1; length <= text.length; length += 1) {
    const prefix = text.slice(0, length);
    const stop = HEURISTIC.find((candidate) => prefix.endsWith(candidate));
    if (stop) return { stop, end: length };
  }
  return null;
};
const oracleLastCode = (through: string): string | null => {
  if (!paperDetect(through)) return null;
  return [...through.matchAll(/```python([\s\S]*?)```/g)].at(-1)?.[1] ?? null;
};
const stopSoup = fc
  .array(fc.constantFrom('```', '```python\n', 'print(1)', 'x', '\n', '\n\n', '```output', 'output', ' ', '`', '```\n'), { maxLength: 14 })
  .map((parts) => parts.join(''));

test('the heuristic stops where vLLM would and runs the last complete block before the stop', () => {
  fc.assert(
    fc.property(stopSoup, (text) => {
      const hit = findStopString(text, 0);
      const expected = oracleStop(text);
      assert.equal(hit?.stop ?? null, expected?.stop ?? null);
      if (!hit || !expected) return;
      assert.equal(hit.end, expected.end);
      const through = text.slice(0, hit.start + 3);
      assert.equal(hit.block?.code ?? null, oracleLastCode(through));
      // Fed piece by piece, the detector finds the same stop at the first piece that completes it.
      const detector = new BoundaryDetector('stop-strings', {});
      let found = null;
      for (let length = 1; length <= text.length && !found; length += 1) found = detector.check(text.slice(0, length), length - 1);
      assert.equal(found?.end, hit.end);
    }),
    { numRuns: 3000 },
  );
});

test('heuristic boundary cases: the stop ends it, the hallucination before it stays, the last block runs', () => {
  const twoBlocks = 'A\n```python\nprint(1)\n```\nIt prints 5.\n```python\nprint(2)\n```\n\nmore';
  const hit = findStopString(twoBlocks, 0);
  assert.equal(hit?.stop, '```\n\n');
  assert.equal(twoBlocks.slice(0, hit?.end), 'A\n```python\nprint(1)\n```\nIt prints 5.\n```python\nprint(2)\n```\n\n');
  assert.equal(hit?.block?.code, '\nprint(2)\n');
  // A block closed by "```\n" and followed by text is not a stop.
  assert.equal(findStopString('```python\nprint(1)\n```\nSo \\boxed{1}', 0), null);
  // "```output" opened by the model: its fence may close the block; the injection completes the output block.
  assert.equal(findStopString('```python\nprint(3)\n```output', 0)?.block?.code, '\nprint(3)\n');
  assert.equal(outputOpening('```output'), '\n');
  assert.equal(outputOpening('```\n\n'), '```output\n');
  assert.equal(outputOpening(null), '\n```output\n');
  // An empty first block makes the stop final, as the reference's detect_code does.
  assert.equal(findStopString('```python``` ```python\nprint(1)\n```output', 0)?.block, null);
  // A stop with no python block before it ends the segment with nothing to run.
  assert.equal(findStopString('Plain text\n```\nnot code\n```\n\n', 0)?.block, null);
  assert.deepEqual(completeCodeBlocks('```python a``` b ```python c```').map((block) => [block.start, block.code]), [[0, ' a'], [17, ' c']]);
});
