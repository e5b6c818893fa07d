/**
 * `cir compare DIR1 DIR2 …`: runs side by side, each later run against the first. Differences in
 * accuracy use a paired bootstrap over the problems both runs solved attempts at (same benchmark,
 * same problem id); runs on different problem sets fall back to an unpaired comparison of intervals.
 */
import { basename, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { bootstrapMean, errorFeedback, groupByProblem, mean, pairedBootstrap, passAtK, perProblemAccuracy, reportedKs, type ErrorFeedback, type GradedSample, type Interval, type PairedDifference } from './metrics.js';
import { readConfig, readResults, RESULTS_FILE } from './run-store.js';
import { markdownCell, intervalText, percent } from './report.js';
import { escapeXml, lineChart } from '../plot/svg.js';
import { leftOutNote, presetSummary, toGradedSample, type PresetSummary } from './summary.js';

export interface RunColumn {
  run: string;
  accuracy: Interval;
  problems: number;
  samples: number;
  policyTokens: number;
  toolCalls: number;
  /** Unbiased pass@k, mean over problems, for k = 1, 2, 4, … up to the fewest samples any problem has. */
  passAtK: Record<string, number>;
  /** Efficiency: policy tokens and tool calls spent per correct answer (null when none is correct). */
  perCorrect: { policyTokens: number | null; toolCalls: number | null };
  /** No calls / clean / at least one failure / recovered after a failure, with accuracy in each. */
  errorFeedback: ErrorFeedback;
}

/** One subject (or family) of a benchmark: each run's accuracy and its paired difference from run 0. */
export interface SubjectComparison {
  subject: string;
  accuracy: (number | null)[];
  differences: (PairedDifference | null)[];
}

export interface BenchmarkComparison {
  benchmark: string;
  runs: (RunColumn | null)[];
  /** Entry i compares run i with run 0 (null for run 0, or when either run lacks the benchmark). */
  differences: (PairedDifference | null)[];
  /** Preset benchmarks: each run's own metrics (LiveCodeBench pass@k by difficulty and month) and caveats. */
  presets: (PresetSummary | null)[];
  /** Per subject (MATH) or family, where records carry one: code-vs-text differences by topic. */
  bySubject: SubjectComparison[];
}

export interface Comparison {
  runs: { label: string; dir: string; protocol: string; mode: string; caveats: string[] }[];
  benchmarks: BenchmarkComparison[];
}

export function compareRuns(dirs: readonly string[], options: { resamples?: number; seed?: number; labels?: string[] } = {}): Comparison {
  if (dirs.length < 2) throw new InputError('compare needs at least two run directories', dirs.join(' '));
  const bootstrap = { resamples: options.resamples ?? 2000, seed: options.seed ?? 1 };
  const loaded = dirs.map((dir, i) => {
    const config = readConfig(dir);
    // Only scored records: a sample an infrastructure failure touched is left out, never counted wrong.
    const { records, infraFailures } = readResults(join(dir, RESULTS_FILE));
    const samples = records.map(toGradedSample);
    return { dir, label: options.labels?.[i] ?? (basename(dir) || dir), config, records, samples, infraFailuresLeftOut: infraFailures.length };
  });
  const names: string[] = [];
  for (const run of loaded) for (const s of run.samples) if (!names.includes(s.benchmark)) names.push(s.benchmark);
  const benchmarks = names.map((benchmark): BenchmarkComparison => {
    const perRun = loaded.map((run) => {
      const own = run.samples.filter((s) => s.benchmark === benchmark);
      return own.length === 0 ? null : { own, accuracy: perProblemAccuracy(own) };
    });
    const runs = perRun.map((entry, i): RunColumn | null =>
      entry === null
        ? null
        : {
            run: loaded[i]?.label ?? String(i),
            accuracy: bootstrapMean([...entry.accuracy.values()], bootstrap),
            problems: entry.accuracy.size,
            samples: entry.own.length,
            policyTokens: mean(entry.own.map((s) => s.stats.policyTokens)),
            toolCalls: mean(entry.own.map((s) => s.stats.toolCalls)),
            passAtK: passAtKCurve(entry.own),
            perCorrect: perCorrect(entry.own),
            errorFeedback: errorFeedback(entry.own),
          },
    );
    const base = perRun[0];
    const differences = perRun.map((entry, i) => (i === 0 || entry === null || !base ? null : pairedDifference(base.accuracy, entry.accuracy, bootstrap)));
    const subjects = [...new Set(perRun.flatMap((entry) => (entry ? entry.own.map((s) => s.subject).filter((x): x is string => x !== undefined) : [])))].sort();
    const bySubject = subjects.map((subject): SubjectComparison => {
      const accuracies = perRun.map((entry) => (entry ? perProblemAccuracy(entry.own.filter((s) => s.subject === subject)) : null));
      const baseAccuracy = accuracies[0];
      return {
        subject,
        accuracy: accuracies.map((a) => (a && a.size > 0 ? mean([...a.values()]) : null)),
        differences: accuracies.map((a, i) => (i === 0 || !a || !baseAccuracy ? null : pairedDifference(baseAccuracy, a, bootstrap))),
      };
    });
    const presets = loaded.map(
      (run) =>
        presetSummary(
          run.config.settings.benchmarks.find((b) => b.name === benchmark),
          run.records.filter((r) => r.benchmark === benchmark),
        ) ?? null,
    );
    return { benchmark, runs, differences, presets, bySubject };
  });
  return {
    runs: loaded.map((r, i) => ({
      label: r.label,
      dir: r.dir,
      protocol: r.config.settings.protocol,
      mode: r.config.settings.mode,
      caveats: [
        ...(r.infraFailuresLeftOut > 0 ? [leftOutNote(r.infraFailuresLeftOut) ?? ''] : []),
        ...benchmarks.flatMap((b) => (b.presets[i]?.caveats ?? []).map((c) => `${b.benchmark}: ${c}`)),
      ],
    })),
    benchmarks,
  };
}

/** Paired bootstrap of per-problem accuracy over the problems both maps hold (null when none are shared). */
function pairedDifference(base: Map<string, number>, other: Map<string, number>, bootstrap: { resamples: number; seed: number }): PairedDifference | null {
  const shared = [...base.keys()].filter((id) => other.has(id));
  if (shared.length === 0) return null;
  return pairedBootstrap(
    shared.map((id) => base.get(id) ?? 0),
    shared.map((id) => other.get(id) ?? 0),
    bootstrap,
  );
}

/** pass@k for k = 1, 2, 4, … up to the smallest number of samples of any problem, mean over problems. */
export function passAtKCurve(samples: readonly GradedSample[]): Record<string, number> {
  const groups = [...groupByProblem(samples).values()];
  if (groups.length === 0) return {};
  const fewest = Math.min(...groups.map((g) => g.length));
  const curve: Record<string, number> = {};
  for (const k of reportedKs(fewest)) curve[String(k)] = mean(groups.map((g) => passAtK(g.length, g.filter((s) => s.correct).length, k)));
  return curve;
}

function perCorrect(samples: readonly GradedSample[]): RunColumn['perCorrect'] {
  const correct = samples.filter((s) => s.correct).length;
  if (correct === 0) return { policyTokens: null, toolCalls: null };
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return { policyTokens: sum(samples.map((s) => s.stats.policyTokens)) / correct, toolCalls: sum(samples.map((s) => s.stats.toolCalls)) / correct };
}

export function comparisonMarkdown(comparison: Comparison): string {
  const labels = comparison.runs.map((r) => r.label);
  const lines = [
    '# Run comparison',
    '',
    ...comparison.runs.map((r, i) => `- run ${i}: ${markdownCell(r.label)} (${markdownCell(r.protocol)}, ${markdownCell(r.mode)}) \`${markdownCell(r.dir)}\``),
    '',
    `| benchmark | ${labels.map(markdownCell).join(' | ')} | ${labels.slice(1).map((l) => `${markdownCell(l)} − ${markdownCell(labels[0] ?? '')}`).join(' | ')} |`,
    `| --- | ${labels.map(() => '---').join(' | ')} | ${labels.slice(1).map(() => '---').join(' | ')} |`,
  ];
  for (const b of comparison.benchmarks) {
    const cells = b.runs.map((r) => (r ? `${intervalText(r.accuracy)} (${r.problems})` : '–'));
    const diffs = b.differences.slice(1).map((d) => (d ? `${signed(d.estimate)} [${signed(d.low)}, ${signed(d.high)}] p=${d.pValue.toFixed(3)} (${d.pairs} paired)` : '–'));
    lines.push(`| ${markdownCell(b.benchmark)} | ${cells.join(' | ')} | ${diffs.join(' | ')} |`);
  }
  lines.push('', '| benchmark | ' + labels.map((l) => `${markdownCell(l)} tokens / tool calls`).join(' | ') + ' |', `| --- | ${labels.map(() => '---').join(' | ')} |`);
  for (const b of comparison.benchmarks) {
    lines.push(`| ${markdownCell(b.benchmark)} | ${b.runs.map((r) => (r ? `${r.policyTokens.toFixed(0)} / ${r.toolCalls.toFixed(2)}` : '–')).join(' | ')} |`);
  }
  for (const b of comparison.benchmarks) {
    const ks = [...new Set(b.runs.flatMap((r) => (r ? Object.keys(r.passAtK) : [])))].sort((x, y) => Number(x) - Number(y));
    lines.push('', `| ${markdownCell(b.benchmark)} pass@k | ${ks.map((k) => `k=${k}`).join(' | ')} |`, `| --- | ${ks.map(() => '---').join(' | ')} |`);
    for (const r of b.runs) if (r) lines.push(`| ${markdownCell(r.run)} | ${ks.map((k) => (r.passAtK[k] === undefined ? '–' : percent(r.passAtK[k]!))).join(' | ')} |`);
    lines.push('', `| ${markdownCell(b.benchmark)} | tokens per correct | tool calls per correct | no calls | clean | with a failure | recovered |`, '| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of b.runs) {
      if (!r) continue;
      const f = r.errorFeedback;
      const rate = (x: { count: number; accuracy: number }) => (x.count === 0 ? '–' : `${x.count} (${percent(x.accuracy)} right)`);
      lines.push(`| ${markdownCell(r.run)} | ${r.perCorrect.policyTokens?.toFixed(0) ?? '–'} | ${r.perCorrect.toolCalls?.toFixed(2) ?? '–'} | ${rate(f.noToolCalls)} | ${rate(f.noFailures)} | ${rate(f.withFailure)} | ${rate(f.recovered)} |`);
    }
    if (b.bySubject.length > 0) {
      lines.push('', `| ${markdownCell(b.benchmark)} subject | ${labels.map(markdownCell).join(' | ')} | ${labels.slice(1).map((l) => `${markdownCell(l)} − ${markdownCell(labels[0] ?? '')}`).join(' | ')} |`, `| --- | ${labels.map(() => '---').join(' | ')} | ${labels.slice(1).map(() => '---').join(' | ')} |`);
      for (const subject of b.bySubject) {
        const diffs = subject.differences.slice(1).map((d) => (d ? `${signed(d.estimate)} [${signed(d.low)}, ${signed(d.high)}] (${d.pairs})` : '–'));
        lines.push(`| ${markdownCell(subject.subject)} | ${subject.accuracy.map((a) => (a === null ? '–' : percent(a))).join(' | ')} | ${diffs.join(' | ')} |`);
      }
    }
  }
  for (const b of comparison.benchmarks) {
    const lcb = b.presets.map((p) => p?.lcb ?? null);
    if (lcb.every((x) => x === null)) continue;
    const rows: [string, (run: NonNullable<(typeof lcb)[number]>) => number | undefined][] = [['overall', (x) => x.overall.passAt['pass@1']]];
    for (const key of ['difficulty', 'month']) {
      const values = [...new Set(lcb.flatMap((x) => Object.keys(x?.byGroup[key] ?? {})))].sort();
      for (const value of values) rows.push([`${key} ${value}`, (x) => x.byGroup[key]?.[value]?.passAt['pass@1']]);
    }
    lines.push('', `| ${markdownCell(b.benchmark)} pass@1 | ${labels.map(markdownCell).join(' | ')} |`, `| --- | ${labels.map(() => '---').join(' | ')} |`);
    for (const [name, pick] of rows) {
      lines.push(`| ${markdownCell(name)} | ${lcb.map((x) => { const v = x ? pick(x) : undefined; return v === undefined ? '–' : percent(v); }).join(' | ')} |`);
    }
  }
  const caveats = comparison.runs.flatMap((r) => r.caveats.map((c) => `${r.label}: ${c}`));
  if (caveats.length > 0) lines.push('', '**Caveats**', '', ...caveats.map((c) => `- ${markdownCell(c)}`));
  lines.push('', 'Accuracy in percent with 95% bootstrap intervals over problems; differences are paired over the problems both runs share.');
  return `${lines.join('\n')}\n`;
}

function signed(value: number): string {
  const text = percent(value);
  return value > 0 ? `+${text}` : text;
}

/**
 * The comparison as a self-contained HTML page: the Markdown tables as text, and per benchmark one
 * chart overlaying every run's pass@k curve (log2 k axis), where the runs' curves can be seen to cross.
 */
export function comparisonHtml(comparison: Comparison): string {
  const charts = comparison.benchmarks
    .filter((b) => b.runs.some((r) => r && Object.keys(r.passAtK).length > 1))
    .map((b) =>
      lineChart({
        title: `${b.benchmark}: pass@k`,
        xLabel: 'k',
        yLabel: 'pass@k',
        xScale: 'log2',
        yMin: 0,
        yMax: 1,
        series: b.runs.flatMap((r) => (r ? [{ name: r.run, markers: true, points: Object.entries(r.passAtK).map(([k, y]) => ({ x: Number(k), y })) }] : [])),
      }),
    );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>cir run comparison</title><style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}pre{white-space:pre-wrap;font-size:12px}</style></head>
<body><h1>Run comparison</h1>
${charts.join('\n')}
<pre>${escapeXml(comparisonMarkdown(comparison))}</pre>
</body></html>
`;
}
