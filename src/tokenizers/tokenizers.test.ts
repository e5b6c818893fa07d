import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { downloadHfTokenizer, HubDownloadError, loadHfTokenizer, loadHfTokenizerFromHub } from './index.js';
import { qwen3TokenizerDir } from './testing/qwen3.js';

const qwen3 = await loadHfTokenizer(qwen3TokenizerDir());

test('Qwen3 tokenizer encodes and decodes the documented ids', () => {
  assert.deepEqual(qwen3.encode('Hello world'), [9707, 1879]);
  assert.equal(qwen3.eosTokenId, 151645);
  assert.equal(qwen3.eosToken, '<|im_end|>');
  assert.equal(qwen3.vocabSize, 151669);
  assert.ok(qwen3.specialTokens.includes('<|im_end|>'));
  assert.ok(!qwen3.specialTokens.includes('<think>'), '<think> is an added but not special token');
  for (const text of ['```python\nprint(1)\n```\n\nThe', 'é😀 ∑ x²', '  leading and trailing  \n']) {
    assert.equal(qwen3.decode(qwen3.encode(text)), text);
  }
  assert.equal(qwen3.decode([87, 151645, 88], { skipSpecialTokens: true }), 'xy');
});

test('chat template renders Qwen3 prompts as apply_chat_template does', () => {
  const rendered = qwen3.renderChat([{ role: 'user', content: 'hi' }], { enableThinking: false });
  assert.equal(rendered, '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
  assert.deepEqual(qwen3.encodeChat([{ role: 'user', content: 'hi' }]), [151644, 872, 198, 6023, 151645, 198, 151644, 77091, 198]);
  const noPrompt = qwen3.renderChat([{ role: 'user', content: 'hi' }], { addGenerationPrompt: false });
  assert.equal(noPrompt, '<|im_start|>user\nhi<|im_end|>\n');
});

test('a folder without tokenizer files is rejected with the folder named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cir-tok-'));
  try {
    await assert.rejects(loadHfTokenizer(dir), (error: unknown) => error instanceof InputError && error.input === dir);
    await writeFile(join(dir, 'tokenizer.json'), '{"model": 3');
    await writeFile(join(dir, 'tokenizer_config.json'), '{}');
    await assert.rejects(loadHfTokenizer(dir), /not valid JSON/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a chat template in chat_template.jinja is used when the config has none', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cir-tok-'));
  try {
    await copyFile(join(qwen3TokenizerDir(), 'tokenizer.json'), join(dir, 'tokenizer.json'));
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|endoftext|>' }));
    await writeFile(join(dir, 'chat_template.jinja'), '{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}');
    const tokenizer = await loadHfTokenizer(dir);
    assert.equal(tokenizer.eosTokenId, 151643);
    assert.equal(tokenizer.renderChat([{ role: 'user', content: 'x' }]), '[user]x');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Hub download fetches tokenizer files from a local mirror, caches them, and reports HTTP errors', async () => {
  const sourceDir = qwen3TokenizerDir();
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const match = /^\/Qwen\/Qwen3-8B\/resolve\/main\/([a-z_.]+)$/.exec(request.url ?? '');
    if (request.url?.startsWith('/gated/')) {
      response.writeHead(401).end();
      return;
    }
    if (match && (match[1] === 'tokenizer.json' || match[1] === 'tokenizer_config.json')) {
      readFile(join(sourceDir, match[1])).then((body) => response.writeHead(200).end(body), () => response.writeHead(500).end());
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const endpoint = `http://127.0.0.1:${address.port}`;
  const cacheDir = await mkdtemp(join(tmpdir(), 'cir-hub-'));
  try {
    const tokenizer = await loadHfTokenizerFromHub('Qwen/Qwen3-8B', { cacheDir, endpoint });
    assert.deepEqual(tokenizer.encode('Hello world'), [9707, 1879]);
    assert.equal(tokenizer.name, 'Qwen/Qwen3-8B');
    const count = requests.length;
    assert.ok(requests.includes('/Qwen/Qwen3-8B/resolve/main/chat_template.jinja'), 'optional files are tried');
    const dir = await downloadHfTokenizer('Qwen/Qwen3-8B', { cacheDir, endpoint });
    assert.equal(requests.length, count, 'second call is served from the cache');
    assert.equal(dir, join(cacheDir, 'Qwen--Qwen3-8B', 'main'));
    await assert.rejects(
      downloadHfTokenizer('gated/model', { cacheDir, endpoint }),
      (error: unknown) => error instanceof HubDownloadError && error.status === 401 && /gated/.test(error.message),
    );
    await assert.rejects(downloadHfTokenizer('missing/model', { cacheDir, endpoint }), (error: unknown) => error instanceof HubDownloadError && error.status === 404);
    await assert.rejects(downloadHfTokenizer('../etc', { cacheDir, endpoint }), InputError);
    await mkdir(join(cacheDir, 'x'), { recursive: true });
  } finally {
    server.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
});
