import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { Template } from '@huggingface/jinja';
import { Tokenizer as HfTokenizerCore } from '@huggingface/tokenizers';
import { loadHfTokenizer } from '../tokenizers/index.js';
import { loadCheckpoint } from './checkpoint.js';
import { headDim, parameterLayout } from './config.js';
import { chatTemplateFor, charVocabularyTokens, exportGguf, exportHf, interleaveRotaryRows } from './export.js';
import { decodeGguf, encodeGguf, GgufType, readGgufF32 } from './gguf.js';
import { DEFAULT_CHECKPOINT_PATH } from './index.js';
import { decodeSafetensors } from './safetensors.js';
import { charTokenizer } from './tokenizer.js';

const TEMPLATE = 'Q: {problem}\nA: ';
const checkpoint = loadCheckpoint(DEFAULT_CHECKPOINT_PATH);
const dir = mkdtempSync(join(tmpdir(), 'cir-export-'));
const asciiText = fc.string({ unit: fc.integer({ min: 1, max: 127 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 80 });

test('GGUF encode/decode round-trips metadata of every type and float32 tensors, aligned', () => {
  const data = Float32Array.from({ length: 15 }, (_, i) => i * 0.5 - 3);
  const bytes = encodeGguf(
    [
      { key: 'a.u32', type: GgufType.UINT32, value: 7 },
      { key: 'a.f32', type: GgufType.FLOAT32, value: 0.25 },
      { key: 'a.bool', type: GgufType.BOOL, value: true },
      { key: 'a.str', type: GgufType.STRING, value: 'héllo' },
      { key: 'a.i64', type: GgufType.INT64, value: -5n },
      { key: 'a.arr', type: GgufType.ARRAY, itemType: GgufType.INT32, value: [1, -2, 3] },
      { key: 'a.empty', type: GgufType.ARRAY, itemType: GgufType.STRING, value: [] },
    ],
    [
      { name: 'x', shape: [3, 5], data },
      { name: 'y', shape: [2], data: Float32Array.of(1, 2) },
    ],
  );
  assert.equal(bytes.readUInt32LE(0), 0x46554747);
  const decoded = decodeGguf(bytes, 'mem');
  assert.equal(decoded.version, 3);
  assert.deepEqual([...decoded.metadata.entries()], [
    ['a.u32', 7],
    ['a.f32', 0.25],
    ['a.bool', true],
    ['a.str', 'héllo'],
    ['a.i64', -5n],
    ['a.arr', [1, -2, 3]],
    ['a.empty', []],
  ]);
  assert.deepEqual(decoded.tensors.map((t) => [t.name, t.shape, t.offset % 32]), [['x', [3, 5], 0], ['y', [2], 0]]);
  assert.deepEqual(readGgufF32(bytes, decoded.tensors[0]!, 'mem'), data);
  assert.deepEqual([...readGgufF32(bytes, decoded.tensors[1]!, 'mem')], [1, 2]);
  assert.throws(() => decodeGguf(bytes.subarray(0, 40), 'cut'), /ends at byte 40/);
  assert.throws(() => decodeGguf(Buffer.from('GGML....'), 'bad'), /not a GGUF file/);
});

test('rotary rows: pair (i, i+hd/2) of each head becomes the adjacent pair (2i, 2i+1)', () => {
  const heads = 2;
  const hd = 4;
  const columns = 3;
  const weight = Float32Array.from({ length: heads * hd * columns }, (_, i) => i);
  const out = interleaveRotaryRows(weight, heads, hd, columns);
  const row = (w: Float32Array, r: number) => [...w.subarray(r * columns, (r + 1) * columns)];
  // head 0: rows 0,1 | 2,3 → 0,2,1,3; head 1 likewise, offset by 4
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((r) => row(out, r)[0]! / columns), [0, 2, 1, 3, 4, 6, 5, 7]);
});

test('the GGUF export has the llama keys, the char vocabulary and every tensor (q/k permuted)', () => {
  const file = exportGguf(checkpoint, join(dir, 'model.gguf'), { promptTemplate: TEMPLATE });
  const bytes = readFileSync(file);
  const { metadata, tensors } = decodeGguf(bytes, file);
  const c = checkpoint.config;
  assert.equal(metadata.get('general.architecture'), 'llama');
  assert.equal(metadata.get('llama.context_length'), c.contextLength);
  assert.equal(metadata.get('llama.attention.head_count_kv'), c.numKvHeads);
  assert.equal(metadata.get('llama.rope.freq_base'), c.ropeTheta);
  assert.ok(Math.abs((metadata.get('llama.attention.layer_norm_rms_epsilon') as number) - c.rmsNormEps) < 1e-10);
  assert.equal(metadata.get('cir.prompt_template'), TEMPLATE);
  const tokens = metadata.get('tokenizer.ggml.tokens') as string[];
  assert.equal(tokens.length, 128);
  assert.equal(tokens[0], '<|endoftext|>');
  assert.equal(tokens[32], 'Ġ');
  assert.equal(tokens[10], 'Ċ');
  assert.equal(tokens[65], 'A');
  assert.equal(tensors.length, 2 + 9 * c.numLayers + 1);
  const layout = parameterLayout(c);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const embed = readGgufF32(bytes, byName.get('token_embd.weight')!, file);
  assert.deepEqual(embed, checkpoint.params.subarray(layout.embed.offset, layout.embed.offset + layout.embed.size));
  const q = layout.layers[1]!.qProj;
  const qGguf = readGgufF32(bytes, byName.get('blk.1.attn_q.weight')!, file);
  const qOurs = checkpoint.params.subarray(q.offset, q.offset + q.size);
  assert.notDeepEqual(qGguf, qOurs);
  assert.deepEqual(qGguf, interleaveRotaryRows(qOurs, c.numHeads, headDim(c), c.hiddenSize));
});

test('the HF export: LlamaForCausalLM config, safetensors names/shapes/dtypes, tokenizer round-trips the char ids', async () => {
  const out = exportHf(checkpoint, join(dir, 'hf'), { promptTemplate: TEMPLATE });
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  // Field names and meanings of transformers' LlamaConfig (huggingface/transformers
  // src/transformers/models/llama/configuration_llama.py at 5dd4a63548857797727ae73eeb6a6e886ea02a3e).
  assert.deepEqual(config['architectures'], ['LlamaForCausalLM']);
  assert.equal(config['model_type'], 'llama');
  assert.equal(config['hidden_act'], 'silu');
  assert.equal(config['tie_word_embeddings'], false);
  assert.equal(config['head_dim'], 24);
  assert.equal(config['eos_token_id'], 0);
  const { tensors, metadata } = decodeSafetensors(readFileSync(join(out, 'model.safetensors')), 'hf');
  assert.equal(metadata['format'], 'pt');
  // LlamaForCausalLM's state dict (modeling_llama.py at the same commit): model.embed_tokens, per layer
  // self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj, input/post_attention_layernorm; model.norm, lm_head.
  const expected = parameterLayout(checkpoint.config).tensors.map((t) => `${t.name}:${t.shape.join('x')}`).sort();
  assert.deepEqual([...tensors.values()].map((t) => `${t.name}:${t.shape.join('x')}`).sort(), expected);
  assert.ok(tensors.has('model.layers.3.self_attn.k_proj.weight') && tensors.has('lm_head.weight'));
  assert.deepEqual(tensors.get('model.layers.3.self_attn.k_proj.weight')!.shape, [48, 96]);

  const tokenizerJson = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')) as object;
  const tokenizerConfig = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  const core = new HfTokenizerCore(tokenizerJson, tokenizerConfig);
  const ours = await loadHfTokenizer(out);
  fc.assert(
    fc.property(asciiText, (text) => {
      const ids = charTokenizer.encode(text);
      assert.deepEqual(core.encode(text, { add_special_tokens: false }).ids, ids);
      assert.deepEqual(ours.encode(text), ids);
      assert.equal(core.decode(ids, { skip_special_tokens: false }), text);
      assert.equal(ours.decode(ids), text);
    }),
    { numRuns: 200 },
  );
  assert.deepEqual(ours.encode('1<|endoftext|>'), [49, 0]);
  assert.equal(ours.eosTokenId, 0);
  // The chat template renders the training format: prompt for a user turn, trace + end token for the answer.
  const rendered = new Template(tokenizerConfig['chat_template'] as string).render({
    messages: [{ role: 'user', content: 'What is 3+5?' }, { role: 'assistant', content: '\\boxed{8}' }],
    add_generation_prompt: false,
  });
  assert.equal(rendered, 'Q: What is 3+5?\nA: \\boxed{8}<|endoftext|>');
  assert.equal(ours.renderChat([{ role: 'user', content: 'What is 3+5?' }], { addGenerationPrompt: true }), 'Q: What is 3+5?\nA: ');
  assert.throws(() => new Template(chatTemplateFor(TEMPLATE)).render({ messages: [{ role: 'system', content: 'x' }] }));
  const generation = JSON.parse(readFileSync(join(out, 'generation_config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(generation['eos_token_id'], 0);
});

test('the vocabulary tokens are distinct and cover id 1..127 as single characters', () => {
  const tokens = charVocabularyTokens(128);
  assert.equal(new Set(tokens).size, 128);
  assert.ok(tokens.slice(1).every((t) => [...t].length === 1));
  assert.throws(() => chatTemplateFor('no placeholder'), /exactly once/);
});
