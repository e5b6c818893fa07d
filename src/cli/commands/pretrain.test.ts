// `cir pretrain` through the built CLI: a tiny new model, a continuation of it, the copy probe, and
// the chain both record in config.json.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cir-pretrain-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cirBlock = (checkpoint: string) => (JSON.parse(readFileSync(join(checkpoint, 'config.json'), 'utf8')) as { cir: Record<string, unknown> }).cir;

test('cir pretrain: a new model of the size given, a continuation, the chain and every setting in config.json, the probe in --json', async () => {
  const first = join(dir, 'first');
  const size = ['--hidden', '16', '--layers', '1', '--heads', '2', '--kv-heads', '1', '--ffn', '24', '--context-length', '256'];
  const made = await runCli('pretrain', '--out', first, ...size, '--copy-steps', '1', '--steps', '2', '--batch', '3', '--lr', '0.002', '--seed', '5', '--threads', '1', '--probe', '14', '--json');
  assert.equal(made.status, 0, made.stderr);
  const report = JSON.parse(made.stdout) as { steps: number; probe: { traces: number; digits: number; accuracy: number; nll: number; allRight: number; byFamily: Record<string, unknown> } };
  assert.equal(report.steps, 2);
  assert.equal(report.probe.traces, 14);
  assert.ok(report.probe.digits > 14 && report.probe.accuracy >= 0 && report.probe.accuracy <= 1 && report.probe.nll > 0);
  assert.equal(Object.keys(report.probe.byFamily).length, 7);
  const recorded = cirBlock(first);
  assert.equal(recorded['command'], `cir pretrain --out ${first} ${size.join(' ')} --copy-steps 1 --steps 2 --batch 3 --lr 0.002 --seed 5 --threads 1 --probe 14 --json`);
  for (const [key, value] of Object.entries({ trained_by: 'cir pretrain', copy_steps: 1, copy_focus: 0, steps: 2, batch: 3, lr: 0.002, seed: 5, programs: 'copy-only', tokenizer: 'cir-char-ascii' })) {
    assert.equal(recorded[key], value, key);
  }
  assert.deepEqual(recorded['trace_mix'], { codeHelps: { direct: 0.5, code: 0.4, 'code-retry': 0.1 }, codeDoesNotHelp: { direct: 0.85, code: 0.15, 'code-retry': 0 } });
  assert.deepEqual(recorded['model'], { hidden: 16, layers: 1, heads: 2, kv_heads: 1, ffn: 24, context: 256, vocab: 128, parameters: (recorded['model'] as { parameters: number }).parameters });
  assert.equal(recorded['continued_from'], undefined);

  const second = join(dir, 'second');
  const continued = await runCli('pretrain', '--init', first, '--out', second, '--copy-steps', '0', '--steps', '1', '--copy-focus', '1', '--batch', '3', '--threads', '1', '--json');
  assert.equal(continued.status, 0, continued.stderr);
  const chain = cirBlock(second);
  assert.equal(chain['init'], first);
  assert.equal(chain['copy_focus'], 1);
  assert.deepEqual((chain['model'] as { hidden: number }).hidden, 16, 'the init checkpoint keeps its size');
  const { format: _format, version: _version, ...firstRecord } = recorded;
  assert.deepEqual(chain['continued_from'], { format: recorded['format'], version: recorded['version'], ...firstRecord });

  // Deeper: the first checkpoint's layer and a new one on top.
  const grown = join(dir, 'grown');
  const deepened = await runCli('pretrain', '--init', first, '--layers', '2', '--out', grown, '--copy-steps', '0', '--steps', '1', '--batch', '2', '--threads', '1', '--json');
  assert.equal(deepened.status, 0, deepened.stderr);
  const grownRecord = cirBlock(grown);
  assert.equal(grownRecord['grown_from_layers'], 1);
  assert.equal((grownRecord['model'] as { layers: number }).layers, 2);
  assert.equal((JSON.parse(readFileSync(join(grown, 'config.json'), 'utf8')) as { num_hidden_layers: number }).num_hidden_layers, 2);
  const shallower = await runCli('pretrain', '--init', grown, '--layers', '2', '--out', join(dir, 'never'), '--steps', '1', '--threads', '1');
  assert.notEqual(shallower.status, 0);
  assert.match(shallower.stderr, /a deeper model needs more than the checkpoint's 2 layers/);

  // The checkpoint loads with the size it records and is measured without training.
  const measured = await runCli('pretrain', '--eval-only', '--out', second, '--probe', '7', '--threads', '1', '--json');
  assert.equal(measured.status, 0, measured.stderr);
  assert.equal((JSON.parse(measured.stdout) as { probe: { traces: number } }).probe.traces, 7);
});

test('cir pretrain refuses a width with --init, and sizes that are not whole numbers', async () => {
  const resized = await runCli('pretrain', '--init', 'assets/checkpoints/warm-start', '--out', join(dir, 'never'), '--hidden', '128');
  assert.equal(resized.status, 2);
  assert.match(resized.stderr, /--hidden sizes a new model; the checkpoint assets\/checkpoints\/warm-start has its own size/);
  const fractional = await runCli('pretrain', '--out', join(dir, 'never'), '--hidden', '96.5');
  assert.equal(fractional.status, 2);
  assert.match(fractional.stderr, /--hidden must be an integer/);
});
