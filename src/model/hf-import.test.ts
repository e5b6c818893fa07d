import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadCheckpoint } from './checkpoint.js';
import { exportHf } from './export.js';
import { DEFAULT_CHECKPOINT_PATH, loadEmbeddedPolicy } from './index.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { widenSafetensors } from './safetensors-upcast.js';

const source = loadCheckpoint(DEFAULT_CHECKPOINT_PATH);
const root = mkdtempSync(join(tmpdir(), 'cir-import-'));
after(() => rmSync(root, { recursive: true, force: true }));
const TEMPLATE = 'Q: {problem}\nA: ';

function exported(name: string): string {
  return exportHf(source, join(root, name), { promptTemplate: TEMPLATE });
}
function editConfig(dir: string, edit: (json: Record<string, unknown>) => void): void {
  const file = join(dir, 'config.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(file, JSON.stringify(json));
}

test('an HF export loads back into the embedded model with the same weights and the same greedy tokens', async () => {
  const dir = exported('round-trip');
  const loaded = loadCheckpoint(dir);
  assert.deepEqual(loaded.config, source.config);
  assert.deepEqual(loaded.params, source.params);
  assert.equal(loaded.info['imported_from'], dir);
  const policy = await loadEmbeddedPolicy(dir, { threads: 1 });
  const original = await loadEmbeddedPolicy(DEFAULT_CHECKPOINT_PATH, { threads: 1 });
  try {
    const params = { temperature: 0, topP: 1, topK: 0, maxTokens: 20 };
    const promptTokens = policy.tokenizer.encode('Q: What is 12*34?\nA: ');
    const [a] = await policy.sample({ promptTokens, params });
    const [b] = await original.sample({ promptTokens, params });
    assert.deepEqual(a!.tokens, b!.tokens);
  } finally {
    await policy.close();
    await original.close();
  }
});

test('a folder without the cir block, sharded, with tied embeddings loads too', () => {
  const dir = exported('sharded');
  editConfig(dir, (json) => {
    delete json['cir'];
    json['tie_word_embeddings'] = true;
  });
  const { tensors } = decodeSafetensors(readFileSync(join(dir, 'model.safetensors')), 'x');
  rmSync(join(dir, 'model.safetensors'));
  const names = [...tensors.keys()].filter((name) => name !== 'lm_head.weight');
  const half = Math.floor(names.length / 2);
  const shards = [names.slice(0, half), names.slice(half)];
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    writeFileSync(join(dir, file), encodeSafetensors(shard.map((name) => tensors.get(name)!), { format: 'pt' }));
    for (const name of shard) weightMap[name] = file;
  });
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const loaded = loadCheckpoint(dir);
  const embed = tensors.get('model.embed_tokens.weight')!.data;
  const lmHead = loaded.params.subarray(loaded.params.length - embed.length);
  assert.deepEqual(lmHead, embed, 'lm_head tied to the embedding');
  renameSync(join(dir, 'model-00002-of-00002.safetensors'), join(dir, 'gone.safetensors'));
  assert.throws(() => loadCheckpoint(dir), /shard model-00002-of-00002.safetensors listed in model.safetensors.index.json is missing/);
});

test('BF16 and F16 weights are widened to float32 exactly', () => {
  const values = Float32Array.of(1, -2.5, 0.15625, 65504, 6.103515625e-5, 5.960464477539063e-8, -0, 3.140625);
  const bf16 = Buffer.alloc(values.length * 2);
  const f16 = Buffer.alloc(values.length * 2);
  const f16Bits = [0x3c00, 0xc100, 0x3100, 0x7bff, 0x0400, 0x0001, 0x8000, 0x4248];
  values.forEach((v, i) => {
    bf16.writeUInt16LE(new Uint32Array(Float32Array.of(v).buffer)[0]! >>> 16, 2 * i);
    f16.writeUInt16LE(f16Bits[i]!, 2 * i);
  });
  const file = (dtype: string, data: Buffer) => {
    let header = JSON.stringify({ __metadata__: { format: 'pt' }, w: { dtype, shape: [2, 4], data_offsets: [0, data.length] } });
    header += ' '.repeat((8 - (header.length % 8)) % 8);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    return Buffer.concat([length, Buffer.from(header), data]);
  };
  const bf16Values = decodeSafetensors(widenSafetensors(file('BF16', bf16), 'bf16'), 'bf16').tensors.get('w')!;
  assert.deepEqual(bf16Values.shape, [2, 4]);
  // BF16 keeps the top 16 bits: exact for these values except 0.15625·(1+ε) and 6.1e-5, 5.96e-8, 3.14 lose low bits
  bf16Values.data.forEach((v, i) => assert.ok(Math.abs(v - values[i]!) <= Math.abs(values[i]!) * 2 ** -7, `bf16 ${i}`));
  assert.deepEqual([...decodeSafetensors(widenSafetensors(file('F16', f16), 'f16'), 'f16').tensors.get('w')!.data], [...values]);
});

test('what the embedded model does not compute is refused by name', () => {
  const cases: [string, (json: Record<string, unknown>) => void, RegExp][] = [
    ['arch', (j) => ((j['architectures'] = ['MistralForCausalLM']), (j['model_type'] = 'mistral')), /architecture MistralForCausalLM is not supported/],
    ['act', (j) => (j['hidden_act'] = 'gelu'), /hidden_act "gelu"/],
    ['bias', (j) => (j['attention_bias'] = true), /attention_bias is true/],
    ['rope', (j) => (j['rope_scaling'] = { rope_type: 'llama3', factor: 8 }), /rope_scaling/],
    ['vocab', (j) => (j['vocab_size'] = 151936), /vocab_size 151936: the embedded model tokenizes with its 128-character/],
    ['head', (j) => (j['head_dim'] = 32), /head_dim 32 differs/],
  ];
  for (const [name, edit, message] of cases) {
    const dir = exported(`bad-${name}`);
    editConfig(dir, edit);
    assert.throws(() => loadCheckpoint(dir), message, name);
  }
  // Relabels the first tensor's dtype in place (the header keeps its length: JSON allows trailing spaces).
  const relabeled = (name: string, dtype: string) => {
    const dir = exported(name);
    const file = join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = bytes.subarray(8, 8 + headerLength).toString('utf8').replace('"F32",', `"${dtype}",`);
    writeFileSync(file, Buffer.concat([bytes.subarray(0, 8), Buffer.from(header.trimEnd().padEnd(headerLength, ' ')), bytes.subarray(8 + headerLength)]));
    return dir;
  };
  assert.throws(() => loadCheckpoint(relabeled('bad-bf16', 'BF16')), /has inconsistent offsets/, 'a BF16 label on 4-byte data');
  assert.throws(() => loadCheckpoint(relabeled('bad-int8', 'I8')), /dtype I8; the embedded model loads F32, BF16 and F16/);
  const bin = exported('bad-bin');
  renameSync(join(bin, 'model.safetensors'), join(bin, 'pytorch_model.bin'));
  assert.throws(() => loadCheckpoint(bin), /found pytorch_model\.bin \(only safetensors weights load/);
});
