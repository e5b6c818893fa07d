/**
 * The paper's recipe end to end on this machine (issue 13): the embedded transformer built over the
 * real Qwen3 tokenizer behind `cir serve`, trained through the Tinker API with `cir-paper` on real MATH
 * problems. The client is given no tokenizer: it learns it (and the chat template) from the server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openPolicyBackend } from '../backends/index.js';
import { createSandboxExecutor, formatFeedback } from '../interpreter/index.js';
import { createEmbeddedPolicyForTokenizer } from '../model/index.js';
import { CIR_INSTRUCTION } from '../prompts/index.js';
import { HfTokenizer, loadHfTokenizer } from '../tokenizers/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import { cirPaperConfig, loadTrainingData, runTraining, type StepRecord } from '../train/index.js';
import { startServer } from './server.js';

const root = mkdtempSync(join(tmpdir(), 'cir-recipe-e2e-'));
const qwen3 = await loadHfTokenizer(qwen3TokenizerDir());
const backend = createEmbeddedPolicyForTokenizer(qwen3, { contextLength: 512 }, { seed: 7, checkpointDir: join(root, 'served') });
const server = await startServer({
  backend,
  tokenizer: backend.tokenizer,
  modelName: 'cir-qwen3-vocab',
  checkpointDir: join(root, 'served'),
  modelInfo: { promptFormat: 'chat', tokenizerFiles: qwen3.files() },
});
const sandbox = await createSandboxExecutor({ uidBase: 63500, uids: 4, concurrency: 2 });
after(async () => {
  await sandbox.close();
  await server.close();
  await backend.close();
  rmSync(root, { recursive: true, force: true });
});

test('cir-paper through Tinker against cir serve over the Qwen3 vocabulary: real MATH prompts in the chat template, recipe in config.json, mismatch in metrics', async () => {
  const config = cirPaperConfig(1);
  config.data = { kind: 'dataset', specs: ['../shared/datasets/train_math.jsonl'], levels: null, subjects: null, dropOverlap: false };
  config.validation.every = 0;
  config.rl.promptsPerStep = 1;
  config.rl.groupSize = 2;
  config.rl.miniBatchesPerStep = 1;
  config.rl.rollout.maxResponseTokens = 8;
  config.recipe.overrides = { steps: '1', prompts: '1', group: '2', 'max-response-tokens': '8', 'val-every': '0' };
  const data = await loadTrainingData(config);
  const opened = await openPolicyBackend({ kind: 'tinker', url: server.url }, { model: 'cir-qwen3-vocab' });
  const out = join(root, 'run');
  try {
    assert.ok(opened.tokenizer instanceof HfTokenizer && opened.tokenizer.chatTemplate !== null, 'the tokenizer and its template came from the server');
    const result = await runTraining(
      config,
      { backend: opened.backend, tokenizer: opened.tokenizer, promptEncoder: opened.tokenizer, data, executor: sandbox, formatFeedback: (o) => formatFeedback(o) },
      { out },
    );
    assert.equal(result.completedSteps, 1);
  } finally {
    await opened.close();
  }
  const stored = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as typeof config;
  assert.equal(stored.recipe.name, 'cir-paper');
  assert.equal(stored.rl.optimizer.learningRate, 1e-6);
  assert.equal(stored.rl.optimizer.weightDecay, 0.01);
  assert.equal(stored.recipe.overrides['max-response-tokens'], '8');
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as StepRecord);
  assert.deepEqual(lines.map((line) => line.kind), ['step'], '--val-every 0: no validation, not even at start and end');
  const step = lines[0]!;
  assert.equal(step.metrics['update/recomputedLogprobs'], 1);
  assert.ok((step.metrics['mismatch/tokens'] ?? 0) > 0 && Number.isFinite(step.metrics['mismatch/maxAbsLogprobDelta']));
  // The first problem of the first epoch, rendered as the policy saw it.
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { recipe: { name: string } };
  assert.equal(summary.recipe.name, 'cir-paper');
  const prompt = qwen3.decode(qwen3.encodeChat([{ role: 'user', content: `${CIR_INSTRUCTION}\n${data.problems[0]!.problem}` }], { enableThinking: false }));
  assert.match(prompt, /^<\|im_start\|>user\nPlease solve the following problem step by step\. During your reasoning process/);
});
