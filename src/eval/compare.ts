/**
 * `cir compare DIR1 DIR2 …`: runs side by side, each later run against the first. Differences in
 * accuracy use a paired bootstrap over the problems both runs solved attempts at (same benchmark,
 * same problem id); runs on different problem sets fall back to an unpaired comparison of intervals.
 */
import { basename, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { bootstrapMean, mean, pairedBootstrap, perProblemAccuracy, type Interval, type PairedDifference } from './metrics.js';
import { readConfig, readResults, RESULTS_FILE } from './run-store.js';
import { markdownCell, intervalText, percent } from './report.js';
import { leftOutNote, presetSummary, toGradedSample, type PresetSummary } from './summary.js';

export interface RunColumn {
  run: string;
  accuracy: Interval;
  problems: number;
  samples: number;
  policyTokens: number;
  toolCalls: number;
}

export interface BenchmarkComparison {
  benchmark: string;
  runs: (RunColumn | null)[];
  /** Entry i compares run i with run 0 (null for run 0, or when either run lacks the benchmark). */
  differences: (PairedDifference | null)[];
  /** Preset benchmarks: each run's own metrics (LiveCodeBench pass@k by difficulty and month) and caveats. */
  presets: (PresetSummary | null)[];
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
          },
    );
    const base = perRun[0];
    const differences = perRun.map((entry, i) => {
      if (i === 0 || entry === null || base === null || base === undefined) return null;
      const shared = [...base.accuracy.keys()].filter((id) => entry.accuracy.has(id));
      if (shared.length === 0) return null;
      return pairedBootstrap(
        shared.map((id) => base.accuracy.get(id) ?? 0),
        shared.map((id) => entry.accuracy.get(id) ?? 0),
        bootstrap,
      );
    });
    const presets = loaded.map(
      (run) =>
        presetSummary(
          run.config.settings.benchmarks.find((b) => b.name === benchmark),
          run.records.filter((r) => r.benchmark === benchmark),
        ) ?? null,
    );
    return { benchmark, runs, differences, presets };
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
