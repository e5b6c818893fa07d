/**
 * `cir report DIR`: summary.json, report.md and a self-contained report.html (inline SVG, no scripts,
 * no external resources). Model output shown in either report is escaped.
 */
import { writeFileSafely } from '../core/files.js';
import { join } from 'node:path';
import type { Interval } from './metrics.js';
import { readConfig, readResults, RESULTS_FILE, SUMMARY_FILE, writeJsonAtomic, type RunConfig, type SampleRecord } from './run-store.js';
import type { PassSummary } from '../benchmarks/index.js';
import { leftOutNote, summarize, type BenchmarkSummary, type RunSummary } from './summary.js';
import { barChart, escapeHtml, lineChart } from './svg.js';
import { markdownCell } from '../plot/svg.js';

export interface ReportFiles {
  summary: RunSummary;
  paths: { summary: string; markdown: string; html: string };
}

/** Reads a run directory and writes its three report files. */
export function writeReport(dir: string, options: { resamples?: number; seed?: number } = {}): ReportFiles {
  const config = readConfig(dir);
  const results = readResults(join(dir, RESULTS_FILE));
  const summary = summarize(config, results.records, { ...options, duplicatesDropped: results.duplicates, tornBytes: results.tornBytes, infraFailures: results.infraFailures });
  const paths = { summary: join(dir, SUMMARY_FILE), markdown: join(dir, 'report.md'), html: join(dir, 'report.html') };
  writeJsonAtomic(paths.summary, summary);
  const failures = results.records.filter((r) => !r.correct).slice(0, 10);
  writeFileSafely(paths.markdown, renderMarkdown(config, summary, failures));
  writeFileSafely(paths.html, renderHtml(config, summary, failures));
  return { summary, paths };
}

export function percent(value: number): string {
  return Number.isFinite(value) ? (100 * value).toFixed(1) : '–';
}

export function intervalText(interval: Interval): string {
  return `${percent(interval.estimate)} [${percent(interval.low)}, ${percent(interval.high)}]`;
}

export { markdownCell };

function responseText(record: SampleRecord): string {
  return record.trajectory.segments
    .filter((s) => s.origin !== 'prompt')
    .map((s) => s.text)
    .join('');
}

/** Failures of confidential benchmarks are listed by id: their responses may quote the question. */
function confidentialNames(summary: RunSummary): Set<string> {
  return new Set(summary.benchmarks.filter((b) => b.preset?.confidential).map((b) => b.name));
}

const WITHHELD = '(withheld: confidential benchmark)';

function excerpt(text: string, length = 240): string {
  return text.length <= length ? text : `…${text.slice(text.length - length)}`;
}

function extracted(record: SampleRecord): string {
  const value = record.verdict.extracted;
  // A program (LiveCodeBench) is shown by its first line only.
  return typeof value === 'string' ? (value.includes('\n') ? `${value.split('\n')[0] ?? ''} …` : value) : '(none)';
}

function reference(record: SampleRecord): string {
  return record.reference === '' ? '(tests)' : record.reference;
}

export interface ReportTable {
  title: string;
  head: string[];
  rows: string[][];
}

/** pass@k by group value, one table per group key (difficulty and contest month for LiveCodeBench). */
export function presetTables(b: BenchmarkSummary): ReportTable[] {
  const preset = b.preset;
  if (!preset) return [];
  const tables: ReportTable[] = [];
  const passTable = (title: string, groups: Record<string, PassSummary>): ReportTable => {
    const ks = [...new Set(Object.values(groups).flatMap((g) => Object.keys(g.passAt)))];
    return {
      title,
      head: [title.split(' ').pop() ?? title, 'problems', 'samples', ...ks],
      rows: Object.entries(groups).map(([value, g]) => [value, String(g.problems), String(g.samples), ...ks.map((k) => (g.passAt[k] === undefined ? '–' : percent(g.passAt[k])))]),
    };
  };
  if (preset.lcb) {
    tables.push(passTable('LiveCodeBench pass@k overall', { all: preset.lcb.overall }));
    for (const [key, groups] of Object.entries(preset.lcb.byGroup)) tables.push(passTable(`pass@k by ${key === 'month' ? 'contest month' : key}`, groups));
  } else {
    // Keys with one value or very many (ids in disguise) say nothing as a breakdown.
    for (const [key, groups] of Object.entries(preset.byGroup)) {
      const values = Object.keys(groups).length;
      if (values > 1 && values <= 24) tables.push(passTable(`accuracy by ${key}`, groups));
    }
  }
  return tables;
}

/** The lines a preset benchmark's section starts with: its prompt mode and every caveat. */
export function presetNotes(b: BenchmarkSummary): string[] {
  const preset = b.preset;
  if (!preset) return [];
  const notes = [`Preset ${preset.benchmark}, ${preset.promptMode} prompts, graded by its own rules.`];
  if (preset.lcb) notes.push(`pass@1 ${percent(preset.lcb.overall.passAt['pass@1'] ?? Number.NaN)}% over ${preset.lcb.overall.problems} problems.`);
  if (preset.benchmark === 'gpqa') notes.push('Accuracy with vs without the interpreter: run once more with --text-only and put both runs into cir compare.');
  if (preset.confidential) notes.push('Problem text is confidential: this report names problems by id only.');
  return notes;
}

function settingsLine(config: RunConfig): string {
  const s = config.settings;
  return `protocol ${s.protocol}, mode ${s.mode}, prompt ${s.promptFormat}, tool budget ${s.maxToolCalls}, seed ${s.seed}`;
}

function benchmarkMarkdown(b: BenchmarkSummary): string[] {
  const e = b.efficiency;
  const f = b.errorFeedback;
  const lines = [
    `## ${markdownCell(b.name)}`,
    '',
    `${b.problems} problems, ${b.samples} samples (${b.samplesPerProblem} per problem${b.greedy ? ', greedy' : ''})${b.incompleteProblems ? `, **${b.incompleteProblems} problems incomplete**` : ''}.`,
    '',
    ...(b.preset?.caveats ?? []).flatMap((c) => [`> **Caveat:** ${markdownCell(c)}`, '']),
    ...presetNotes(b).flatMap((n) => [markdownCell(n), '']),
    ...presetTables(b).flatMap((t) => [
      `**${markdownCell(t.title)}**`,
      '',
      `| ${t.head.map(markdownCell).join(' | ')} |`,
      `| ${t.head.map(() => '---').join(' | ')} |`,
      ...t.rows.map((row) => `| ${row.map(markdownCell).join(' | ')} |`),
      '',
    ]),
    `| metric | ${b.passAtK.map((p) => `k=${p.k}`).join(' | ')} |`,
    `| --- | ${b.passAtK.map(() => '---').join(' | ')} |`,
    `| pass@k | ${b.passAtK.map((p) => intervalText(p.interval)).join(' | ')} |`,
    `| maj@k | ${b.majAtK.map((p) => intervalText(p.interval)).join(' | ')} |`,
    '',
    `Accuracy (avg@${b.samplesPerProblem}): **${intervalText(b.accuracy)}** (95% bootstrap over problems).`,
    '',
    '| efficiency | mean | median | p90 | max |',
    '| --- | --- | --- | --- | --- |',
    ...(['policyTokens', 'toolTokens', 'toolCalls'] as const).map(
      (key) => `| ${key} | ${e[key].mean.toFixed(1)} | ${e[key].median} | ${e[key].p90.toFixed(1)} | ${e[key].max} |`,
    ),
    '',
    `Executions by outcome: ${Object.entries(e.outcomes).map(([k, v]) => `${markdownCell(k)} ${v}`).join(', ')}. ` +
      `Responses by status: ${Object.entries(e.statuses).map(([k, v]) => `${markdownCell(k)} ${v}`).join(', ')}. ` +
      `Tool use rate ${percent(e.toolUseRate)}%.`,
    ...(b.infraFailuresLeftOut > 0 ? ['', `${leftOutNote(b.infraFailuresLeftOut) ?? ''}.`] : []),
    '',
    '| error feedback | responses | correct | accuracy |',
    '| --- | --- | --- | --- |',
    ...(['noToolCalls', 'noFailures', 'withFailure', 'recovered'] as const).map(
      (key) => `| ${key} | ${f[key].count} | ${f[key].correct} | ${percent(f[key].accuracy)} |`,
    ),
    '',
  ];
  for (const [title, groups] of [
    ['subject', b.bySubject],
    ['level', b.byLevel],
  ] as const) {
    if (groups.length === 0) continue;
    lines.push(`| ${title} | problems | accuracy |`, '| --- | --- | --- |');
    for (const g of groups) lines.push(`| ${markdownCell(g.key)} | ${g.problems} | ${percent(g.accuracy)} |`);
    lines.push('');
  }
  return lines;
}

export function renderMarkdown(config: RunConfig, summary: RunSummary, failures: readonly SampleRecord[]): string {
  const lines = [
    '# Evaluation report',
    '',
    markdownCell(settingsLine(config)),
    '',
    ...(summary.caveats.length > 0 ? ['**Caveats**', '', ...summary.caveats.map((c) => `- ${markdownCell(c)}`), ''] : []),
    '| benchmark | accuracy (95% CI) | problems | samples/problem |',
    '| --- | --- | --- | --- |',
    ...summary.benchmarks.map((b) => `| ${markdownCell(b.name)} | ${intervalText(b.accuracy)} | ${b.problems} | ${b.samplesPerProblem} |`),
    `| **average** | ${percent(summary.averageAccuracy)} | | |`,
    '',
    ...(summary.infraFailuresLeftOut > 0 ? [`**${markdownCell(leftOutNote(summary.infraFailuresLeftOut) ?? '')}.**`, ''] : []),
    ...summary.benchmarks.flatMap(benchmarkMarkdown),
  ];
  const confidential = confidentialNames(summary);
  if (failures.length > 0) {
    lines.push('## Some wrong answers', '', '| benchmark | problem | sample | extracted | reference | response tail |', '| --- | --- | --- | --- | --- | --- |');
    for (const r of failures) {
      lines.push(
        `| ${markdownCell(r.benchmark)} | ${markdownCell(r.problem_id)} | ${r.sample} | ${markdownCell(extracted(r))} | ${markdownCell(reference(r))} | ${markdownCell(confidential.has(r.benchmark) ? WITHHELD : excerpt(responseText(r), 160))} |`,
      );
    }
    lines.push('');
  }
  if (summary.duplicatesDropped || summary.tornBytes) {
    lines.push(`Note: ${summary.duplicatesDropped} duplicate records dropped, ${summary.tornBytes} bytes of a torn last line ignored.`, '');
  }
  return `${lines.join('\n')}\n`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function benchmarkHtml(b: BenchmarkSummary): string {
  const e = b.efficiency;
  const f = b.errorFeedback;
  const charts = [
    lineChart(
      `${b.name}: pass@k and maj@k`,
      [
        { name: 'pass@k', points: b.passAtK.map((p) => ({ x: p.k, y: p.value, low: p.interval.low, high: p.interval.high })) },
        { name: 'maj@k', points: b.majAtK.map((p) => ({ x: p.k, y: p.value })) },
      ],
      'k (samples)',
      'accuracy',
    ),
  ];
  if (b.bySubject.length > 0) {
    charts.push(barChart(`${b.name}: accuracy by subject`, b.bySubject.map((g) => ({ label: g.key, value: g.accuracy })), 'subject', 'accuracy', 1));
  }
  if (b.byLevel.length > 0) {
    charts.push(barChart(`${b.name}: accuracy by level`, b.byLevel.map((g) => ({ label: g.key, value: g.accuracy })), 'level', 'accuracy', 1));
  }
  const edges = b.histograms.policyTokens.edges;
  charts.push(
    barChart(
      `${b.name}: response length`,
      b.histograms.policyTokens.counts.map((count, i) => ({ label: String(Math.round(edges[i] ?? 0)), value: count })),
      'policy tokens (bin start)',
      'responses',
    ),
    barChart(`${b.name}: tool calls per response`, b.histograms.toolCalls.map((count, i) => ({ label: String(i), value: count })), 'tool calls', 'responses'),
  );
  return [
    `<section><h2>${escapeHtml(b.name)}</h2>`,
    `<p>${b.problems} problems, ${b.samples} samples (${b.samplesPerProblem} per problem${b.greedy ? ', greedy' : ''}). Accuracy <b>${escapeHtml(intervalText(b.accuracy))}</b>.</p>`,
    ...(b.preset?.caveats ?? []).map((c) => `<p class="caveat"><b>Caveat:</b> ${escapeHtml(c)}</p>`),
    ...presetNotes(b).map((n) => `<p>${escapeHtml(n)}</p>`),
    ...presetTables(b).map((t) => `<h3>${escapeHtml(t.title)}</h3>${table(t.head, t.rows)}`),
    table(
      ['metric', ...b.passAtK.map((p) => `k=${p.k}`)],
      [
        ['pass@k', ...b.passAtK.map((p) => intervalText(p.interval))],
        ['maj@k', ...b.majAtK.map((p) => intervalText(p.interval))],
      ],
    ),
    `<div class="charts">${charts.join('\n')}</div>`,
    table(
      ['efficiency', 'mean', 'median', 'p90', 'max'],
      (['policyTokens', 'toolTokens', 'toolCalls'] as const).map((k) => [k, e[k].mean.toFixed(1), String(e[k].median), e[k].p90.toFixed(1), String(e[k].max)]),
    ),
    table(['outcome', 'executions'], Object.entries(e.outcomes).map(([k, v]) => [k, String(v)])),
    table(['status', 'responses'], Object.entries(e.statuses).map(([k, v]) => [k, String(v)])),
    table(
      ['error feedback', 'responses', 'correct', 'accuracy'],
      (['noToolCalls', 'noFailures', 'withFailure', 'recovered'] as const).map((k) => [k, String(f[k].count), String(f[k].correct), percent(f[k].accuracy)]),
    ),
    '</section>',
  ].join('\n');
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.6rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;font-size:.9rem}
.caveat,.caveats{background:#fff4d6;padding:.3rem .6rem}.charts{display:flex;flex-wrap:wrap;gap:1rem}pre{white-space:pre-wrap;background:#f6f6f6;padding:.4rem;max-height:12rem;overflow:auto}`;

export function renderHtml(config: RunConfig, summary: RunSummary, failures: readonly SampleRecord[]): string {
  const overview = table(
    ['benchmark', 'accuracy (95% CI)', 'problems', 'samples/problem'],
    [...summary.benchmarks.map((b) => [b.name, intervalText(b.accuracy), String(b.problems), String(b.samplesPerProblem)]), ['average', percent(summary.averageAccuracy), '', '']],
  );
  const confidential = confidentialNames(summary);
  const wrong = failures
    .map(
      (r) =>
        `<div class="failure"><p>${escapeHtml(`${r.benchmark} ${r.problem_id} sample ${r.sample}: extracted ${extracted(r)}, reference ${reference(r)}`)}</p><pre>${escapeHtml(confidential.has(r.benchmark) ? WITHHELD : excerpt(responseText(r), 600))}</pre></div>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>cir evaluation report</title><style>${STYLE}</style></head>
<body><h1>Evaluation report</h1>
<p>${escapeHtml(settingsLine(config))}</p>
${summary.caveats.length > 0 ? `<section class="caveats"><h2>Caveats</h2><ul>${summary.caveats.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul></section>` : ''}
${overview}
${summary.infraFailuresLeftOut > 0 ? `<p class="caveat">${escapeHtml(leftOutNote(summary.infraFailuresLeftOut) ?? '')}.</p>` : ''}
${summary.benchmarks.map(benchmarkHtml).join('\n')}
${wrong ? `<section><h2>Some wrong answers</h2>${wrong}</section>` : ''}
</body></html>
`;
}
