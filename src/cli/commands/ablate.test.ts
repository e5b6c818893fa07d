import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configDifferences } from '../../core/config-diff.js';

const main = fileURLToPath(new URL('../main.js', import.meta.url));

test('cir ablate boundary: two tiny runs that differ only in the boundary, each recorded in its config.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-ablate-boundary-'));
  try {
    const help = spawnSync(process.execPath, [main, 'ablate', '--help'], { encoding: 'utf8' });
    assert.match(help.stdout, /boundary +Does the precise interaction boundary/);
    assert.match(help.stdout, /stop-strings: training turns end at "```output" or "```\\n\\n" \(kept\)/);
    const flags = ['--steps', '2', '--prompts', '2', '--group', '2', '--max-response-tokens', '48', '--eval-tasks', '4', '--no-text-eval', '--threads', '1'];
    const run = spawnSync(process.execPath, [main, 'ablate', 'boundary', ...flags, '--json', '--out', dir], { encoding: 'utf8', timeout: 480_000 });
    assert.equal(run.status, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as { ablation: string; rows: { arm: string; end: { n: number } }[] };
    assert.equal(printed.ablation, 'boundary');
    assert.deepEqual(printed.rows.map((row) => row.arm), ['precise', 'stop-strings']);
    for (const row of printed.rows) assert.equal(row.end.n, 4);
    const config = (arm: string) => JSON.parse(readFileSync(join(dir, arm, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(configDifferences(config('precise'), config('stop-strings')).map((d) => [d.path, d.before, d.after]), [['boundary', 'precise', 'stop-strings']]);
    for (const arm of ['precise', 'stop-strings']) {
      const steps = readFileSync(join(dir, arm, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { kind: string }).filter((line) => line.kind === 'step');
      assert.equal(steps.length, 2, arm);
    }
    assert.equal((JSON.parse(readFileSync(join(dir, 'ablation.json'), 'utf8')) as { rows: unknown[] }).rows.length, 2);
    // The precise arm, finished, stands in for itself through the command line (--baseline is not a setting).
    const again = spawnSync(process.execPath, [main, 'ablate', 'boundary', ...flags, '--json', '--baseline', join(dir, 'precise'), '--out', join(dir, 'again')], { encoding: 'utf8', timeout: 480_000 });
    assert.equal(again.status, 0, again.stderr);
    const rows = (JSON.parse(again.stdout) as { rows: { arm: string; end: unknown }[] }).rows;
    assert.deepEqual(rows[0], printed.rows[0]);
    assert.deepEqual(rows[1]!.end, (printed.rows[1] as { end: unknown }).end, 'the same seed gives the same stop-strings arm');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
