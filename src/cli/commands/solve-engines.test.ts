/** `cir solve` names its model and its interpreter through the one grammar: a llama.cpp server and a SandboxFusion service. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFakeLlamaCpp } from '../../engines/testing/fake-llamacpp.js';
import { startFakeSandboxFusion } from '../../interpreter/testing/fake-sandbox-fusion.js';
import { loadHfTokenizer } from '../../tokenizers/index.js';
import { qwen3TokenizerDir } from '../../tokenizers/testing/qwen3.js';

const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());
const llama = await startFakeLlamaCpp({ tokenizer, respond: (text) => (text.includes('```output') ? 'So \\boxed{42}.' : 'Compute:\n```python\nprint(6*7)\n```\ntail') });
const fusion = await startFakeSandboxFusion();
after(() => Promise.all([llama.close(), fusion.close()]));

function cir(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../main.js', import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('cir solve --engine llamacpp-server:URL --sandbox fusion:URL runs the block remotely, token-exact', async () => {
  const result = await cir(['solve', 'What is 6*7?', '--engine', `llamacpp-server:${llama.url}`, '--tokenizer', qwen3TokenizerDir(), '--sandbox', `fusion:${fusion.url}`, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const trajectory = JSON.parse(result.stdout) as { status: string; tokenExact: boolean; toolCalls: { feedback: string }[] };
  assert.equal(trajectory.status, 'finished');
  assert.equal(trajectory.tokenExact, true);
  assert.equal(trajectory.toolCalls[0]?.feedback, '42');
  assert.equal(fusion.requests, 1);
});

test('--session needs the local sandbox and says so', async () => {
  const result = await cir(['solve', 'x', '--engine', 'embedded', '--session', '--sandbox', `fusion:${fusion.url}`]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--session keeps Python state between blocks, which needs --sandbox local/);
});
