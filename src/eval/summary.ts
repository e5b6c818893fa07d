/** Turns a run's records into the numbers a report shows (`summary.json`). */
import { groupedPassAtK, lcbSummary, PUBLIC_TESTS_ONLY_NOTE, type LcbSummary, type PassSummary } from '../benchmarks/index.js';
import {
  avgAtK,
  bootstrapMean,
  breakdown,
  efficiency,
  errorFeedback,
  groupByProblem,
  histogram,
  majAtK,
  mean,
  passAtK,
  reportedKs,
  type Efficiency,
  type ErrorFeedback,
  type GradedSample,
  type GroupAccuracy,
  type Interval,
} from './metrics.js';
import type { BenchmarkSettings } from './protocol.js';
import type { RunConfig, SampleRecord } from './run-store.js';

export interface KValue {
  k: number;
  value: number;
  interval: Interval;
}

export interface BenchmarkSummary {
  name: string;
  problems: number;
  samples: number;
  /** Samples per problem the settings asked for. */
  samplesPerProblem: number;
  /** Problems with fewer samples than asked (an unfinished run): excluded from pass@k/maj@k at larger k. */
  incompleteProblems: number;
  /** avg@n: mean over problems of the share of correct samples (greedy accuracy when n = 1 and T = 0). */
  accuracy: Interval;
  greedy: boolean;
  passAtK: KValue[];
  majAtK: KValue[];
  efficiency: Efficiency;
  errorFeedback: ErrorFeedback;
  bySubject: GroupAccuracy[];
  byLevel: GroupAccuracy[];
  histograms: {
    policyTokens: { edges: number[]; counts: number[] };
    /** counts[i] = responses with exactly i tool calls. */
    toolCalls: number[];
  };
  /** Preset benchmarks (Minerva, OlympiadBench, GPQA, LiveCodeBench): their own metrics and caveats. */
  preset?: PresetSummary;
  /** Samples an infrastructure failure touched: left out of every figure above (never counted wrong). */
  infraFailuresLeftOut: number;
}

export interface PresetSummary {
  benchmark: string;
  promptMode: string;
  /** Sentences every report must show next to this benchmark's numbers. */
  caveats: string[];
  /** Reports show problem ids and verdicts, not prompt or response text. */
  confidential: boolean;
  /** pass@k per value of each of the items' group keys (difficulty, month, domain, answer_type, ...). */
  byGroup: Record<string, Record<string, PassSummary>>;
  /** LiveCodeBench: pass@k overall, by difficulty and by contest month, and the comparability flag. */
  lcb?: LcbSummary;
}

export interface RunSummary {
  protocol: string;
  mode: string;
  benchmarks: BenchmarkSummary[];
  /** Mean of the benchmarks' accuracies (the paper's "Avg." column). */
  averageAccuracy: number;
  samples: number;
  /** Samples left out because the sandbox or model engine failed on them; `--resume` runs them again. */
  infraFailuresLeftOut: number;
  duplicatesDropped: number;
  tornBytes: number;
  bootstrap: { resamples: number; level: number; seed: number };
  /** Every benchmark's caveats, prefixed with its name. */
  caveats: string[];
}

export interface SummaryOptions {
  resamples?: number;
  level?: number;
  seed?: number;
  duplicatesDropped?: number;
  tornBytes?: number;
  /** Unscored records (`readResults(...).infraFailures`), counted per benchmark in the summary. */
  infraFailures?: readonly SampleRecord[];
}

/** The sentence a summary shows when samples were left out, or null. */
export function leftOutNote(count: number): string | null {
  if (count === 0) return null;
  return `${count} sample${count === 1 ? ' was' : 's were'} left out: an infrastructure failure (model engine or sandbox) touched ${count === 1 ? 'it' : 'them'}, so ${count === 1 ? 'it has' : 'they have'} no score; \`cir eval --resume\` runs ${count === 1 ? 'it' : 'them'} again`;
}

export function toGradedSample(record: SampleRecord): GradedSample {
  const extracted = record.verdict.extracted;
  return {
    benchmark: record.benchmark,
    problemId: record.problem_id,
    sample: record.sample,
    correct: record.correct,
    answer: typeof extracted === 'string' && extracted.trim() !== '' ? extracted.trim() : null,
    ...(record.subject !== undefined ? { subject: record.subject } : {}),
    ...(record.level !== undefined ? { level: record.level } : {}),
    stats: record.stats,
  };
}

export function summarize(config: RunConfig, records: readonly SampleRecord[], options: SummaryOptions = {}): RunSummary {
  const bootstrap = { resamples: options.resamples ?? 2000, level: options.level ?? 0.95, seed: options.seed ?? 1 };
  const samples = records.map(toGradedSample);
  const names = [...config.settings.benchmarks.map((b) => b.name)];
  for (const s of samples) if (!names.includes(s.benchmark)) names.push(s.benchmark);
  const unscored = options.infraFailures ?? [];
  const benchmarks: BenchmarkSummary[] = [];
  for (const name of names) {
    const own = samples.filter((s) => s.benchmark === name);
    if (own.length === 0) continue;
    const settings = config.settings.benchmarks.find((b) => b.name === name);
    const asked = settings?.samples ?? Math.max(...own.map((s) => s.sample + 1));
    const summary = { ...summarizeBenchmark(name, own, asked, settings?.temperature === 0, bootstrap), infraFailuresLeftOut: unscored.filter((r) => r.benchmark === name).length };
    const preset = presetSummary(settings, records.filter((r) => r.benchmark === name));
    benchmarks.push(preset ? { ...summary, preset } : summary);
  }
  return {
    protocol: config.settings.protocol,
    mode: config.settings.mode,
    benchmarks,
    averageAccuracy: mean(benchmarks.map((b) => b.accuracy.estimate)),
    samples: samples.length,
    infraFailuresLeftOut: unscored.length,
    duplicatesDropped: options.duplicatesDropped ?? 0,
    tornBytes: options.tornBytes ?? 0,
    bootstrap,
    caveats: benchmarks.flatMap((b) => (b.preset?.caveats ?? []).map((c) => `${b.name}: ${c}`)),
  };
}

/** The items of a run (id → groups, from the records) and their samples, for the benchmarks' pass@k. */
export function itemsAndSamples(records: readonly SampleRecord[]): { items: { id: string; groups: Record<string, string> }[]; samples: { itemId: string; correct: boolean }[] } {
  const groups = new Map<string, Record<string, string>>();
  for (const r of records) if (!groups.has(r.problem_id)) groups.set(r.problem_id, r.groups ?? {});
  return {
    items: [...groups.entries()].map(([id, g]) => ({ id, groups: g })),
    samples: records.map((r) => ({ itemId: r.problem_id, correct: r.correct })),
  };
}

/**
 * The preset part of a benchmark's summary; undefined for plain benchmarks. A LiveCodeBench run
 * whose config predates its caveats still gets the public-tests note from its records.
 */
export function presetSummary(settings: BenchmarkSettings | undefined, records: readonly SampleRecord[]): PresetSummary | undefined {
  const preset = settings?.preset;
  if (preset === undefined || records.length === 0) return undefined;
  const { items, samples } = itemsAndSamples(records);
  const perProblem = new Map<string, number>();
  for (const s of samples) perProblem.set(s.itemId, (perProblem.get(s.itemId) ?? 0) + 1);
  const ks = reportedKs(Math.max(...perProblem.values()));
  const caveats = [...preset.caveats];
  const summary: PresetSummary = {
    benchmark: preset.benchmark,
    promptMode: preset.promptMode,
    caveats,
    confidential: preset.confidential,
    byGroup: groupedPassAtK(items, samples, ks).byGroup,
  };
  if (preset.benchmark === 'livecodebench') {
    summary.lcb = lcbSummary(items, samples, ks);
    if (summary.lcb.note !== undefined && !caveats.some((c) => c.includes(PUBLIC_TESTS_ONLY_NOTE))) caveats.push(summary.lcb.note);
  }
  return summary;
}

function summarizeBenchmark(
  name: string,
  samples: readonly GradedSample[],
  asked: number,
  greedy: boolean,
  bootstrap: { resamples: number; level: number; seed: number },
): Omit<BenchmarkSummary, 'infraFailuresLeftOut'> {
  const groups = [...groupByProblem(samples).values()];
  const perProblem = groups.map((g) => avgAtK(g.map((s) => s.correct)));
  const estimator = (k: number, f: (group: GradedSample[]) => number): KValue => {
    const values = groups.filter((g) => g.length >= k).map(f);
    return { k, value: mean(values), interval: bootstrapMean(values, bootstrap) };
  };
  const minimum = Math.min(...groups.map((g) => g.length));
  const ks = reportedKs(Math.max(...groups.map((g) => g.length)));
  const maxCalls = Math.max(0, ...samples.map((s) => s.stats.toolCalls));
  const toolCalls = new Array<number>(maxCalls + 1).fill(0);
  for (const s of samples) toolCalls[s.stats.toolCalls] = (toolCalls[s.stats.toolCalls] ?? 0) + 1;
  return {
    name,
    problems: groups.length,
    samples: samples.length,
    samplesPerProblem: asked,
    incompleteProblems: groups.filter((g) => g.length < asked).length,
    accuracy: bootstrapMean(perProblem, bootstrap),
    greedy: greedy && minimum === 1 && asked === 1,
    passAtK: ks.map((k) => estimator(k, (g) => passAtK(g.length, g.filter((s) => s.correct).length, k))),
    majAtK: ks.map((k) => estimator(k, (g) => (majAtK(g, k) ? 1 : 0))),
    efficiency: efficiency(samples),
    errorFeedback: errorFeedback(samples),
    bySubject: breakdown(samples, 'subject'),
    byLevel: breakdown(samples, 'level'),
    histograms: { policyTokens: histogram(samples.map((s) => s.stats.policyTokens), 20), toolCalls },
  };
}
