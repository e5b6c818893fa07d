import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { RunStore } from './run-store.js';

test('attack: symlinks planted in a training run directory redirect no write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-train-links-'));
  const victims = mkdtempSync(join(tmpdir(), 'cir-victim-'));
  const names = ['config.json', 'state.json', 'state.json.tmp', 'summary.json', 'report.md', 'report.html'];
  mkdirSync(dir, { recursive: true });
  for (const name of names) {
    writeFileSync(join(victims, name), 'precious');
    symlinkSync(join(victims, name), join(dir, name));
  }
  const store = new RunStore(dir);
  store.writeConfig({} as never);
  store.writeState({ version: 1 } as never);
  store.writeJson('summary.json', { ok: true });
  store.writeText('report.md', '# report');
  store.writeText('report.html', '<p>report</p>');
  for (const name of names) assert.equal(readFileSync(join(victims, name), 'utf8'), 'precious', `${name} was written through`);
  for (const name of ['config.json', 'state.json', 'summary.json', 'report.md', 'report.html']) assert.ok(lstatSync(join(dir, name)).isFile(), name);
});

test('attack: a symlink planted as metrics.jsonl is refused, not appended through', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-train-links-'));
  const victim = join(mkdtempSync(join(tmpdir(), 'cir-victim-')), 'authorized_keys');
  writeFileSync(victim, 'precious');
  symlinkSync(victim, join(dir, 'metrics.jsonl'));
  const store = new RunStore(dir);
  assert.throws(() => store.appendMetrics({ kind: 'step', step: 1 } as never), (e: unknown) => e instanceof InputError && /symbolic link/.test(e.message));
  assert.throws(() => store.readMetrics(), InputError);
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
});

test('a config.json from before the boundary setting reads as the precise boundary, so the run still resumes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-train-old-config-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ tools: true }));
  assert.deepEqual(new RunStore(dir).readConfig(), { boundary: 'precise', tools: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ tools: true, boundary: 'stop-strings' }));
  assert.equal(new RunStore(dir).readConfig()?.boundary, 'stop-strings');
});

test('a config.json that recorded --tensorboard among its overrides reads without it: where metrics go is no setting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-train-tb-config-'));
  const recipe = { name: 'embedded-demo', overrides: { steps: '2', tensorboard: 'runs/tb' } };
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ boundary: 'precise', tools: true, recipe }));
  assert.deepEqual(new RunStore(dir).readConfig(), { boundary: 'precise', tools: true, recipe: { name: 'embedded-demo', overrides: { steps: '2' } } });
});
