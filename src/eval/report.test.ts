import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compareRuns, comparisonMarkdown } from './compare.js';
import { writeReport } from './report.js';
import { barChart, escapeHtml, lineChart } from './svg.js';
import { writeFixtureRun } from './testing/fixtures.js';

test('report writes summary.json, report.md and a self-contained report.html with plots', () => {
  const dir = writeFixtureRun();
  const { summary, paths } = writeReport(dir, { seed: 3 });
  const onDisk = JSON.parse(readFileSync(paths.summary, 'utf8')) as typeof summary;
  assert.deepEqual(onDisk, JSON.parse(JSON.stringify(summary)));
  const toy = summary.benchmarks[0];
  assert.ok(toy);
  // correct unless (p + s) % 3 == 0: 16 of 24 samples
  assert.equal(toy.samples, 24);
  assert.ok(Math.abs(toy.accuracy.estimate - 16 / 24) < 1e-12);
  assert.deepEqual(toy.efficiency.outcomes.error, 12);
  assert.deepEqual(toy.efficiency.outcomes.ok, 12);
  assert.equal(toy.errorFeedback.withFailure.count, 12);
  assert.deepEqual(toy.histograms.toolCalls, [0, 24]);
  assert.deepEqual(
    toy.bySubject.map((g) => g.key),
    ['Algebra', 'Geometry <script>'],
  );

  const html = readFileSync(paths.html, 'utf8');
  assert.equal((html.match(/<svg /g) ?? []).length, 5, 'pass@k, subject, level, length and tool-call plots');
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img/i);
  assert.match(html, /&lt;script&gt;window\.__pwned = 1&lt;\/script&gt;/);
  assert.match(html, /Geometry &lt;script&gt;/);
  assert.doesNotMatch(html, /(src|href)="https?:/, 'no external resources');
  const markdown = readFileSync(paths.markdown, 'utf8');
  assert.doesNotMatch(markdown, /<script|<img/i);
  assert.match(markdown, /\| toy \| 66\.7 \[/);
  assert.match(markdown, /pass@k/);
});

test('escaping covers every HTML-significant character, in charts too', () => {
  assert.equal(escapeHtml(`<a href="x" onerror='y'>&</a>`), '&lt;a href=&quot;x&quot; onerror=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  const svg = barChart('t<script>', [{ label: '<img src=x onerror=alert(1)>', value: 1 }], 'x', 'y');
  assert.doesNotMatch(svg, /<script|<img/);
  const line = lineChart('t', [{ name: '"><script>', points: [{ x: 1, y: 0.5 }] }], 'k', 'acc');
  assert.doesNotMatch(line, /<script/);
});

test('compare pairs problems across runs and reports the difference with an interval', () => {
  const base = writeFixtureRun({ isCorrect: (p) => p < 3 }); // problems 0-2 right
  const better = writeFixtureRun({ isCorrect: (p) => p < 5 }); // problems 0-4 right
  const comparison = compareRuns([base, better], { seed: 4, labels: ['base', 'better'] });
  const toy = comparison.benchmarks[0];
  assert.ok(toy);
  assert.equal(toy.runs[0]?.accuracy.estimate, 0.5);
  assert.ok(Math.abs((toy.runs[1]?.accuracy.estimate ?? 0) - 5 / 6) < 1e-12);
  const difference = toy.differences[1];
  assert.ok(difference);
  assert.ok(Math.abs(difference.estimate - 2 / 6) < 1e-12);
  assert.equal(difference.pairs, 6);
  assert.ok(difference.low >= 0 && difference.high <= 2 / 6 * 3);
  const markdown = comparisonMarkdown(comparison);
  assert.match(markdown, /\| toy \| 50\.0 \[.*\] \(6\) \| 83\.3 \[.*\] \(6\) \| \+33\.3 \[/);
  assert.throws(() => compareRuns([base]), /at least two/);
});

test('attack: symlinks planted in a run directory redirect no report write', async () => {
  const { mkdtempSync, writeFileSync, symlinkSync, lstatSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = writeFixtureRun();
  const victims = mkdtempSync(join(tmpdir(), 'cir-victim-'));
  // Every name a report writes, and the temporary name the old atomic write used.
  const names = ['report.md', 'report.html', 'summary.json', 'summary.json.tmp'];
  for (const name of names) {
    writeFileSync(join(victims, name), 'precious');
    symlinkSync(join(victims, name), join(dir, name));
  }
  writeReport(dir, { seed: 3 });
  for (const name of names) assert.equal(readFileSync(join(victims, name), 'utf8'), 'precious', `${name} was written through`);
  for (const name of ['report.md', 'report.html', 'summary.json']) assert.ok(lstatSync(join(dir, name)).isFile(), `${name} is now a regular file`);
});

test('attack: status names, outcome names and model text from a results file reach the reports only as text', async () => {
  const { appendFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { hostileTrajectory } = await import('./testing/fixtures.js');
  const { trajectoryStats } = await import('./metrics.js');
  const dir = writeFixtureRun({ problems: 1, samples: 1, isCorrect: () => true });
  const trajectory = hostileTrajectory(false, false);
  const image = '![pixel](https://evil.example/track.png)';
  (trajectory.segments[3] as { text: string }).text = `${image} [click](https://evil.example/) \\[x\\](https://evil.example/escaped)`;
  const record = {
    benchmark: 'toy',
    problem_id: 'p9',
    sample: 0,
    correct: false,
    reference: '42',
    seed: 1,
    verdict: { correct: false, reason: 'different', extracted: image },
    stats: { ...trajectoryStats(trajectory), status: '<img src=https://evil.example/status.png>', outcomes: { [image]: 1 } },
    trajectory,
    elapsed_ms: 1,
  };
  appendFileSync(join(dir, 'results.jsonl'), `${JSON.stringify(record)}\n`);
  const { paths } = writeReport(dir, { seed: 3 });
  const markdown = readFileSync(paths.markdown, 'utf8');
  assert.doesNotMatch(markdown, /!\[|\]\(|<img/i, 'no image, link or tag survives in report.md');
  assert.match(markdown, /evil\.example\/track\.png/, 'the text is still shown');
  const html = readFileSync(paths.html, 'utf8');
  assert.doesNotMatch(html, /<img|src="https?:/i);
});
