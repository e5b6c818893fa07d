import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configDifferences } from '../core/config-diff.js';
import { InputError } from '../core/errors.js';
import { ABLATIONS, readBaseline } from './ablation.js';
import { defaultTrainConfig } from './config.js';

test('each ablation\'s arms differ in exactly the setting it names, and its first arm is the configuration as given', () => {
  const base = defaultTrainConfig(40);
  const expected: Record<string, string[]> = {
    masking: ['rl.maskToolOutput'],
    budget: ['rl.budget.kind', 'rl.budget.stages', 'rl.budget.budget'],
    interpreter: ['tools'],
    'clip-higher': ['rl.loss.clipHigh'],
    kl: ['rl.loss.klCoef'],
    entropy: ['rl.loss.entropyCoef'],
  };
  for (const [name, ablation] of Object.entries(ABLATIONS)) {
    const [first, second] = ablation.arms.map((arm) => arm.apply(base));
    if (name !== 'masking' && name !== 'interpreter') assert.deepEqual(first, base, `${name}: the first arm is the configuration as given`);
    const changed = configDifferences(first, second).map((d) => d.path.replace(/\.\d+.*$/, ''));
    assert.deepEqual([...new Set(changed)].sort(), [...(expected[name] ?? ['?'])].sort(), name);
  }
  // The values the issue names: symmetric clip 0.2; k3 KL at 0.001; entropy bonus 0.001.
  assert.equal(ABLATIONS['clip-higher']!.arms[1].apply(base).rl.loss.clipHigh, 0.2);
  const kl = ABLATIONS['kl']!.arms[1].apply(base).rl.loss;
  assert.deepEqual([kl.klCoef, kl.klEstimator], [0.001, 'k3']);
  assert.equal(ABLATIONS['entropy']!.arms[1].apply(base).rl.loss.entropyCoef, 0.001);
  // Arms never change the configuration they were given.
  assert.deepEqual(base, defaultTrainConfig(40));
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
