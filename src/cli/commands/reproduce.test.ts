import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const mainPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'cir-reproduce-'));
after(() => rmSync(root, { recursive: true, force: true }));

// Tiny settings (2 steps, 2 prompts × 2, 3 held-out tasks, pass@k on 2 tasks × 4 samples): the wiring of
// the real command on the embedded model and the sandbox, not a measurement.
const tiny = ['--steps', '2', '--prompts', '2', '--group', '2', '--eval-tasks', '3', '--eval-every', '1', '--passk-tasks', '2', '--passk-samples', '4', '--max-response-tokens', '40', '--threads', '1'];

test('cir reproduce with tiny settings writes report.md, report.html and findings.json with five verdicts', { timeout: 300_000 }, () => {
  const out = join(root, 'run');
  const result = spawnSync(process.execPath, [mainPath, 'reproduce', '--out', out, ...tiny, '--json'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const printed = JSON.parse(result.stdout) as { findings: unknown[] };
  const file = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as {
    findings: { id: string; claim: string; measure: string; verdict: string; difference: { estimate: number | null; low: number | null; high: number | null } }[];
    plan: { base: { rl: { totalSteps: number } }; passAtK: { samples: number } };
  };
  assert.deepEqual(printed.findings, file.findings);
  assert.deepEqual(file.findings.map((f) => f.id), ['a', 'b', 'c', 'd', 'e']);
  for (const f of file.findings) {
    assert.ok(['holds', 'does not hold', 'inconclusive'].includes(f.verdict), f.verdict);
    assert.ok(f.claim.length > 10 && f.measure.length > 10);
    // Not measurable at this size (e.g. no failed execution at all) is null in JSON, and then never a verdict.
    for (const value of [f.difference.estimate, f.difference.low, f.difference.high]) assert.ok(value === null || typeof value === 'number');
    if (f.difference.low === null) assert.equal(f.verdict, 'inconclusive');
  }
  assert.equal(file.plan.base.rl.totalSteps, 2);
  for (const arm of ['default', 'unmasked', 'fixed-budget', 'text-only']) assert.ok(existsSync(join(out, 'runs', arm, 'summary.json')), arm);
  const unmasked = JSON.parse(readFileSync(join(out, 'runs', 'unmasked', 'config.json'), 'utf8')) as { rl: { maskToolOutput: boolean } };
  assert.equal(unmasked.rl.maskToolOutput, false);
  const markdown = readFileSync(join(out, 'report.md'), 'utf8');
  for (const id of ['a', 'b', 'c', 'd', 'e']) assert.match(markdown, new RegExp(`## \\(${id}\\)`));
  assert.match(markdown, /pass@4/);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.equal(html.match(/<svg /g)?.length, 4);
  assert.match(html, /capability boundary/);

  // A second run on the same directory resumes every finished run instead of training again.
  const again = spawnSync(process.execPath, [mainPath, 'reproduce', '--out', out, ...tiny], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /phase 1\/10 train default/);
  assert.doesNotMatch(again.stderr, /reproduce\/default 1\/2/);
});

test('cir reproduce refuses a minutes budget that not even 3 steps fit, naming the flag', () => {
  const result = spawnSync(process.execPath, [mainPath, 'reproduce', '--out', join(root, 'refused'), '--minutes-budget', '1'], { encoding: 'utf8' });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /--minutes-budget/);
  assert.ok(!existsSync(join(root, 'refused')));
});
