import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../core/errors.js';
import { ABLATIONS, readBaseline } from './ablation.js';
import { defaultTrainConfig } from './config.js';

test('the loss ablations compare the paper\'s choice with the values the issue names', () => {
  const base = defaultTrainConfig(40);
  for (const name of ['clip-higher', 'kl', 'entropy']) assert.deepEqual(ABLATIONS[name]!.arms[0].apply(base), base, `${name}: the first arm is the configuration as given`);
  assert.equal(ABLATIONS['clip-higher']!.arms[1].apply(base).rl.loss.clipHigh, 0.2);
  const kl = ABLATIONS['kl']!.arms[1].apply(base).rl.loss;
  assert.deepEqual([kl.klCoef, kl.klEstimator], [0.001, 'k3']);
  assert.equal(ABLATIONS['entropy']!.arms[1].apply(base).rl.loss.entropyCoef, 0.001);
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
