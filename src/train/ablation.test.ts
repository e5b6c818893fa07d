import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../core/errors.js';
import { formatFeedback } from '../interpreter/index.js';
import { charTokenizer } from '../model/index.js';
import { fixedBudgetSchedule } from '../rl/index.js';
import { ABLATIONS, readBaseline } from './ablation.js';
import { defaultTrainConfig, type TrainConfig } from './config.js';
import { runTraining } from './loop.js';
import { FakeExecutor, ScriptedPolicy, tinyConfig } from './testing/support.js';

test('the loss and boundary ablations compare the paper\'s choice with the values the issue names', () => {
  const base = defaultTrainConfig(40);
  for (const name of ['clip-higher', 'kl', 'entropy', 'boundary']) assert.deepEqual(ABLATIONS[name]!.arms[0].apply(base), base, `${name}: the first arm is the configuration as given`);
  assert.equal(ABLATIONS['clip-higher']!.arms[1].apply(base).rl.loss.clipHigh, 0.2);
  const kl = ABLATIONS['kl']!.arms[1].apply(base).rl.loss;
  assert.deepEqual([kl.klCoef, kl.klEstimator], [0.001, 'k3']);
  assert.equal(ABLATIONS['entropy']!.arms[1].apply(base).rl.loss.entropyCoef, 0.001);
  assert.equal(ABLATIONS['boundary']!.arms[1].apply(base).boundary, 'stop-strings');
});

test('a finished run stands in for the first arm only when its config.json is exactly that arm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-baseline-'));
  try {
    const config = defaultTrainConfig(40);
    assert.throws(() => readBaseline(dir, config), (e: unknown) => e instanceof InputError && /no config\.json/.test(e.message));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    assert.throws(() => readBaseline(dir, config), (e: unknown) => e instanceof InputError && /has not finished/.test(e.message));
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ minutes: 7.5 }));
    assert.equal(readBaseline(dir, config).minutes, 7.5);
    const otherStart = { ...structuredClone(config), policy: 'embedded:/elsewhere' };
    assert.throws(() => readBaseline(dir, otherStart), (e: unknown) => e instanceof InputError && /policy: "embedded:\/elsewhere" → "embedded"/.test(e.message));
    const otherSeed = structuredClone(config);
    otherSeed.rl.seed += 1;
    assert.throws(() => readBaseline(dir, otherSeed), /rl\.seed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the boundary arms train on different tokens: the heuristic keeps text before its stop string as policy tokens; evaluation is precise in both', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cir-boundary-arms-'));
  try {
    // The model claims an output after its first block, writes a second block and a blank line ("```\n\n").
    const script = (context: string) => (context.includes('```output') ? '\\boxed{7}' : 'Try.\n```python\nprint(7)\n```\nIt prints 8.\n```python\nprint(8)\n```\n\nJunk');
    const base = tinyConfig(1, (c) => {
      c.rl.budget = fixedBudgetSchedule(1);
      c.rl.rollout.maxResponseTokens = 120;
      c.eval = { ...c.eval, tasks: 1, toolBudget: 1 };
    });
    const runs: Record<string, { trained: string[]; codes: string[] }> = {};
    for (const arm of ABLATIONS['boundary']!.arms) {
      const out = join(root, arm.name);
      const policy = new ScriptedPolicy(script, join(out, 'checkpoints'));
      const codes: string[] = [];
      const executor = new FakeExecutor((code) => {
        codes.push(code);
        return { kind: 'ok', stdout: `${/print\((\d+)\)/.exec(code)?.[1]}\n`, stderr: '', durationMs: 1 };
      });
      const config = arm.apply(base);
      await runTraining(config, { backend: policy, tokenizer: charTokenizer, executor, formatFeedback: (o) => formatFeedback(o) }, { out });
      assert.equal((JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as TrainConfig).boundary, arm.name);
      // Each trained datum as text, with the characters whose target is in the loss.
      const trained = policy.trained.flatMap((call) =>
        call.data.map((datum) => datum.tokens.slice(1).map((id, t) => (datum.lossMask[t] === 1 ? String.fromCharCode(id) : '_')).join('')),
      );
      runs[arm.name] = { trained, codes };
    }
    const precise = runs['precise']!;
    const heuristic = runs['stop-strings']!;
    // Training: 3 prompts × 2 samples, one call each. Held-out evaluation at the start and end: the first block.
    assert.deepEqual([...precise.codes].sort(), [...Array(6).fill('\nprint(7)\n'), ...Array(2).fill('\nprint(7)\n')].sort());
    assert.deepEqual([...heuristic.codes].sort(), [...Array(6).fill('\nprint(8)\n'), ...Array(2).fill('\nprint(7)\n')].sort());
    assert.equal(precise.trained.length, 6);
    for (const text of precise.trained) assert.doesNotMatch(text, /It prints 8/);
    assert.equal(heuristic.trained.length, 6);
    for (const text of heuristic.trained) {
      assert.match(text, /```\nIt prints 8\.\n```python\nprint\(8\)\n```\n\n/, 'the claimed output is trained on as the policy\'s own');
      assert.doesNotMatch(text, /Junk/);
      assert.match(text, /_{4,}\\boxed\{7\}/, 'the injected output is masked');
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a run written before the boundary setting existed stands in for the precise arm only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-baseline-old-'));
  try {
    const base = defaultTrainConfig(40);
    const { boundary: _dropped, ...old } = ABLATIONS['boundary']!.arms[0].apply(base);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(old));
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ minutes: 1 }));
    assert.equal(readBaseline(dir, ABLATIONS['boundary']!.arms[0].apply(base)).minutes, 1);
    assert.throws(() => readBaseline(dir, ABLATIONS['boundary']!.arms[1].apply(base)), /boundary: "stop-strings" → "precise"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
