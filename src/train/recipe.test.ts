import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { InputError } from '../core/errors.js';
import { formatFeedback } from '../interpreter/index.js';
import { charTokenizer, createEmbeddedPolicy } from '../model/index.js';
import { CIR_INSTRUCTION, TEXT_INSTRUCTION } from '../prompts/index.js';
import { budgetAt } from '../rl/index.js';
import { loadHfTokenizer } from '../tokenizers/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import { cirPaperConfig, defaultTrainConfig, validateTrainConfig } from './config.js';
import { encodePrompt, epochBatch, loadTrainingData } from './data.js';
import { runTraining } from './loop.js';
import { planRun } from './plan.js';
import type { StepRecord } from './run-store.js';
import { tinyConfig } from './testing/support.js';

const root = mkdtempSync(join(tmpdir(), 'cir-train-recipe-'));
after(() => rmSync(root, { recursive: true, force: true }));

// cir-reference §8.3, from RUCAIBox/CIR @ 6d27817eac016f6d277f97e33379afcb652d9932, verl/verl-main/scripts/run/run.sh
// (TBS=128, N=16, PMBS=64, MAX_LENGTH=4096, max_prompt_length=1024, truncation='left', lr=1e-6,
// ppo_max_token_len_per_gpu=32768, clip_ratio_low/high 0.2/0.28, +data.seed=80, val_kwargs T 1.0 / top_p 0.95,
// test_freq 10, val_before_train) and ppo_trainer.yaml's defaults (weight_decay 0.01, grad_clip 1.0,
// clip_ratio_c 3.0, token-mean, warmup 0); the budget switches from the paper's Figure 3 (cir-reference §9).
test('the cir-paper recipe holds every value of cir-reference §8.3', () => {
  const config = cirPaperConfig();
  validateTrainConfig({ ...config, data: { kind: 'dataset', specs: ['x.jsonl'], levels: null, subjects: null, dropOverlap: false } });
  const rl = config.rl;
  assert.equal(rl.promptsPerStep, 128);
  assert.equal(rl.groupSize, 16);
  assert.equal(rl.miniBatchesPerStep, 2);
  assert.equal(rl.epochsPerStep, 1);
  assert.equal(rl.rollout.maxResponseTokens, 4096);
  assert.equal(rl.rollout.maxPromptTokens, 1024);
  assert.equal(config.prompt.truncation, 'left');
  assert.deepEqual([rl.rollout.temperature, rl.rollout.topP, rl.rollout.topK], [1, 1, 0]);
  assert.deepEqual(rl.optimizer, { learningRate: 1e-6, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, gradClip: 1 });
  assert.deepEqual([rl.loss.policyLoss, rl.loss.clipLow, rl.loss.clipHigh, rl.loss.dualClip, rl.loss.aggregation], ['ppo_clip', 0.2, 0.28, 3, 'token-mean']);
  assert.deepEqual([rl.loss.klCoef, rl.loss.entropyCoef, rl.dynamicSampling, rl.maskToolOutput], [0, 0, false, true]);
  assert.equal(rl.advantageEstimator, 'reinforce_plus_plus_baseline');
  assert.equal(rl.microBatchTokens, 32768);
  assert.equal(rl.oldLogprobs, 'recompute');
  assert.equal(rl.seed, 80);
  assert.equal(config.interpreter, 'reference');
  assert.equal(config.executionTimeoutMs, 5000);
  assert.deepEqual(config.prompt, { format: 'chat', mode: 'code', thinking: false, truncation: 'left' });
  assert.deepEqual(config.validation, { sets: [{ spec: 'aime24', samples: 16 }, { spec: 'math500', samples: 1 }], every: 10, temperature: 1, topP: 0.95 });
  assert.equal(config.recipe.name, 'cir-paper');
});

test('the budget switches at absolute steps 100 and 200, whatever the run length', () => {
  for (const steps of [2, 150, 300, 1000]) {
    const budget = cirPaperConfig(steps).rl.budget;
    // 0-based step indices: the 100th step still runs with K = 2, the 101st with K = 3.
    assert.deepEqual([0, 99, 100, 199, 200, 999].map((step) => budgetAt(step, budget)), [2, 2, 3, 3, 4, 4]);
  }
  // The demo scales its switches to the run instead.
  assert.deepEqual([0, 12, 13, 26, 27].map((step) => budgetAt(step, defaultTrainConfig(40).rl.budget)), [2, 2, 3, 3, 4]);
});

test('a dataset run without a dataset is refused with the field named', () => {
  assert.throws(() => validateTrainConfig(cirPaperConfig()), (error: unknown) => error instanceof InputError && /--dataset/.test(error.message));
});

const qwen3 = loadHfTokenizer(qwen3TokenizerDir());

test('prompts are the instruction and the problem as one user message in the Qwen3 chat template, thinking off, left-truncated', async () => {
  const tokenizer = await qwen3;
  const settings = cirPaperConfig().prompt;
  const problem = { id: 'p', problem: 'What is $1+1$?' };
  const { tokens, truncated } = encodePrompt(problem, settings, tokenizer, 1024);
  assert.equal(truncated, 0);
  const text = tokenizer.decode(tokens);
  assert.ok(text.startsWith(`<|im_start|>user\n${CIR_INSTRUCTION}\nWhat is $1+1$?<|im_end|>\n<|im_start|>assistant\n`), text);
  // Qwen3's template closes an empty think block when thinking is off, and adds no system prompt of its own.
  assert.match(text, /<think>\n\n<\/think>\n\n$/);
  assert.doesNotMatch(text, /<\|im_start\|>system/);
  assert.doesNotMatch(tokenizer.decode(encodePrompt(problem, { ...settings, thinking: true }, tokenizer, 1024).tokens), /<\/think>/);
  assert.match(tokenizer.decode(encodePrompt(problem, { ...settings, mode: 'text' }, tokenizer, 1024).tokens), new RegExp(`^<\\|im_start\\|>user\\n${TEXT_INSTRUCTION.replace(/[\\{}.]/g, '\\$&')}\\n`));
  // Longer than the limit: the last tokens stay (the problem's end and the assistant header), never a crash.
  const left = encodePrompt(problem, settings, tokenizer, 20);
  assert.equal(left.tokens.length, 20);
  assert.equal(left.truncated, tokens.length - 20);
  assert.deepEqual(left.tokens, tokens.slice(-20));
  assert.throws(() => encodePrompt(problem, { ...settings, truncation: 'error' }, tokenizer, 20), /more than rollout.maxPromptTokens/);
  assert.throws(() => encodePrompt(problem, settings, charTokenizer, 20), /chat template/);
});

function fixtures(): { jsonl: string; parquet: string; validation: string } {
  const dir = mkdtempSync(join(root, 'data-'));
  const jsonl = join(dir, 'train.jsonl');
  const rows = [
    { id: 'a', problem: 'Find $x$ if $x+1=2$.', answer: '1', subject: 'Algebra', level: 1 },
    { id: 'b', problem: 'Compute 2+2.', answer: '4', subject: 'Prealgebra', level: 1 },
    { id: 'c', problem: 'What is   6*7?', answer: '42', subject: 'Algebra', level: 5 },
    { id: 'd', problem: 'Solve y=3.', answer: '3', subject: 'Algebra', level: 2 },
  ];
  writeFileSync(jsonl, rows.map((row) => JSON.stringify(row)).join('\n'));
  // The paper's verl layout (cir-reference §3.1): prompt messages with the instruction, reward_model.ground_truth.
  const parquet = join(dir, 'train.parquet');
  const verl = [
    { problem: 'Evaluate 3*3.', answer: '9', index: 0 },
    { problem: 'Evaluate 5-2.', answer: '3', index: 1 },
  ];
  writeFileSync(
    parquet,
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'data_source', data: verl.map(() => 'still') },
          { name: 'prompt', data: verl.map((r) => [{ content: `${CIR_INSTRUCTION}\n${r.problem}`, role: 'user' }]) },
          { name: 'reward_model', data: verl.map((r) => ({ ground_truth: r.answer, style: 'rule' })) },
          { name: 'extra_info', data: verl.map((r) => ({ index: r.index, split: 'train' })) },
        ],
      }),
    ),
  );
  const validation = join(dir, 'val.jsonl');
  writeFileSync(validation, [{ id: 'v1', problem: 'what is 6*7?', answer: '42' }, { id: 'v2', problem: 'Other.', answer: '0' }].map((row) => JSON.stringify(row)).join('\n'));
  return { jsonl, parquet, validation };
}

test('training data: JSONL and verl Parquet concatenated, filters by level and subject, overlap reported and dropped on request', async () => {
  const { jsonl, parquet, validation } = fixtures();
  const base = cirPaperConfig();
  const data = { kind: 'dataset' as const, specs: [jsonl, parquet], levels: null, subjects: null, dropOverlap: false };
  const all = await loadTrainingData({ data, validation: { ...base.validation, sets: [{ spec: validation, samples: 2 }] } });
  assert.deepEqual(all.counts.map((c) => [c.name, c.loaded, c.kept]), [['train', 4, 4], ['train', 2, 2]]);
  assert.deepEqual(all.problems.map((p) => p.problem).slice(4), ['Evaluate 3*3.', 'Evaluate 5-2.'], 'the verl prompt loses its instruction');
  assert.deepEqual(all.problems.map((p) => p.answer), ['1', '4', '42', '3', '9', '3']);
  // Case, spacing and $ do not hide an overlap.
  assert.deepEqual(all.overlap, [{ set: 'val', problems: 1, ids: ['train/c'] }]);
  assert.equal(all.validation[0]?.samples, 2);
  const dropped = await loadTrainingData({ data: { ...data, dropOverlap: true }, validation: { ...base.validation, sets: [{ spec: validation, samples: 1 }] } });
  assert.equal(dropped.droppedForOverlap, 1);
  assert.ok(!dropped.problems.some((p) => p.id === 'train/c'));
  const filtered = await loadTrainingData({ data: { ...data, specs: [jsonl], levels: ['1', '2'], subjects: ['Algebra'] }, validation: { ...base.validation, every: 0 } });
  assert.deepEqual(filtered.problems.map((p) => p.id), ['train/a', 'train/d']);
  await assert.rejects(loadTrainingData({ data: { ...data, specs: [jsonl], levels: ['9'] }, validation: { ...base.validation, every: 0 } }), /no training problems left/);
});

test('each epoch is a seeded shuffle cut into whole batches; the remainder waits (drop_last)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 1000 }), (size, count, seed) => {
      fc.pre(count <= size);
      const pool = Array.from({ length: size }, (_, i) => i);
      const perEpoch = Math.floor(size / count);
      const epoch = Array.from({ length: perEpoch }, (_, step) => epochBatch(pool, seed, step, count)).flat();
      assert.equal(new Set(epoch).size, perEpoch * count, 'no problem twice within an epoch');
      assert.deepEqual(epochBatch(pool, seed, perEpoch, count).length, count);
      assert.deepEqual(epochBatch(pool, seed, 0, count), epochBatch(pool, seed, 0, count), 'the same seed draws the same batch');
    }),
  );
  const pool = Array.from({ length: 100 }, (_, i) => i);
  assert.notDeepEqual(epochBatch(pool, 1, 0, 10), epochBatch(pool, 1, 10, 10), 'a new epoch is a new permutation');
});

test('the plan names the recipe, the budget switches, the data and one rendered prompt', async () => {
  const { jsonl } = fixtures();
  const config = cirPaperConfig();
  config.data = { kind: 'dataset', specs: [jsonl], levels: null, subjects: null, dropOverlap: false };
  config.validation.every = 0;
  const data = await loadTrainingData(config);
  const plan = planRun(config, data, await qwen3);
  assert.deepEqual(plan.settings.budgetSwitches, [{ step: 101, budget: 3 }, { step: 201, budget: 4 }]);
  assert.equal(plan.settings.trajectoriesPerStep, 2048);
  assert.equal(plan.data?.problems, 4);
  assert.ok(plan.examplePrompt?.text.includes(CIR_INSTRUCTION));
  assert.ok((plan.data?.promptTokens.max ?? 0) > 0);
});

test('with the embedded backend the recomputed old log-probs equal the sampler\'s (both exact): mismatch ≈ 0 in metrics.jsonl', async () => {
  const out = join(root, 'recompute');
  const policy = createEmbeddedPolicy({}, { checkpointDir: join(out, 'checkpoints'), kernels: 'typescript' });
  const config = tinyConfig(1, (c) => {
    c.tools = false;
    c.rl.oldLogprobs = 'recompute';
    c.rl.microBatchTokens = 100;
    c.rl.rollout.maxResponseTokens = 12;
  });
  await runTraining(config, { backend: policy, tokenizer: policy.tokenizer, formatFeedback: (o) => formatFeedback(o) }, { out });
  await policy.close();
  const step = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as StepRecord).find((line) => line.kind === 'step')!;
  assert.equal(step.metrics['update/recomputedLogprobs'], 1);
  assert.ok((step.metrics['mismatch/tokens'] ?? 0) > 0);
  assert.ok((step.metrics['mismatch/maxAbsLogprobDelta'] ?? 1) < 1e-4, `max |Δ| ${step.metrics['mismatch/maxAbsLogprobDelta']}`);
  assert.ok(Math.abs((step.metrics['mismatch/ratioMean'] ?? 0) - 1) < 1e-4);
  assert.ok((step.metrics['update/microBatches'] ?? 0) > (step.metrics['update/optimizerSteps'] ?? 0), 'a 100-token micro-batch splits the mini-batches');
});
