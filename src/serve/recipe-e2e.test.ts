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
import { cirPaperConfig, loadTrainingData, runTraining, type StepRecord, type TrainEvent } from '../train/index.js';
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

test('a session the server expires mid-run is reopened at the last checkpoint and the run ends as an uninterrupted one', async () => {
  const config = cirPaperConfig(2);
  config.data = { kind: 'dataset', specs: ['../shared/datasets/train_math.jsonl'], levels: null, subjects: null, dropOverlap: false };
  config.validation.every = 0;
  config.checkpointEvery = 1;
  config.rl.promptsPerStep = 1;
  config.rl.groupSize = 2;
  config.rl.miniBatchesPerStep = 1;
  config.rl.rollout.maxResponseTokens = 8;
  const data = await loadTrainingData(config);
  /** A run on a server of its own (same initial weights, own checkpoint folder), whose clock jumps past the heartbeat timeout after a checkpoint. */
  const train = async (name: string, expireAfterStep?: number) => {
    const dir = join(root, name);
    const served = createEmbeddedPolicyForTokenizer(qwen3, { contextLength: 512 }, { seed: 7, checkpointDir: join(dir, 'served') });
    let clockSkewMs = 0;
    const own = await startServer({
      now: () => Date.now() + clockSkewMs,
      backend: served,
      tokenizer: served.tokenizer,
      modelName: 'cir-qwen3-vocab',
      checkpointDir: join(dir, 'served'),
      modelInfo: { promptFormat: 'chat', tokenizerFiles: qwen3.files() },
    });
    const opened = await openPolicyBackend({ kind: 'tinker', url: own.url }, { model: 'cir-qwen3-vocab' });
    const events: TrainEvent[] = [];
    const out = join(dir, 'run');
    try {
      await runTraining(
        config,
        { backend: opened.backend, tokenizer: opened.tokenizer, promptEncoder: opened.tokenizer, data, executor: sandbox, formatFeedback: (o) => formatFeedback(o) },
        {
          out,
          onEvent: (event) => {
            events.push(event);
            // The session and its model are gone for the next request, as after a pause longer than the timeout.
            if (event.type === 'checkpoint' && event.step === expireAfterStep) clockSkewMs += 301_000;
          },
        },
      );
    } finally {
      await opened.close();
      await own.close();
      await served.close();
    }
    const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as StepRecord);
    return { events, steps };
  };
  const reference = await train('uninterrupted');
  const recovered = await train('recovered', 1);
  const notices = recovered.events.filter((event) => event.type === 'recovered');
  assert.equal(notices.length, 1, 'one recovery');
  assert.equal(notices[0]?.type === 'recovered' && notices[0].step, 1);
  assert.match(notices[0]?.type === 'recovered' ? String(notices[0].checkpoint) : '', /step-00001$/);
  // The lost attempt at step 2 stopped at its first failed request: no step trained on failed rollouts was reported.
  assert.deepEqual(recovered.events.flatMap((event) => (event.type === 'step' ? [event.record.step] : [])), [1, 2]);
  // Every figure but the timings as in the uninterrupted run.
  assert.deepEqual(recovered.steps.map((step) => step.step), [1, 2]);
  const figures = (step: StepRecord) => ({ reward: step.reward, budget: step.budget, accuracy: step.trainAccuracy, loss: step.metrics['loss/value'], gradNorm: step.metrics['optim/gradNorm'], failures: step.metrics['rollout/infraFailureRate'] });
  assert.deepEqual(recovered.steps.map(figures), reference.steps.map(figures));
});
