/**
 * The run report: `report.md` (tables) and a self-contained `report.html` (the same tables and
 * inline SVG plots: learning curves, accuracy by task family, code-helps vs text families).
 */
import type { AccuracyFigure } from './evaluate.js';
import { barChart, escapeXml, lineChart, markdownCell } from '../plot/svg.js';
import type { StepRecord } from './run-store.js';
import type { RunSummary, SummaryEvaluation } from './summary.js';

const pct = (value: number) => `${(value * 100).toFixed(1)}%`;
const interval = (figure: AccuracyFigure) => `${pct(figure.accuracy)} [${pct(figure.ci95[0])}, ${pct(figure.ci95[1])}]`;

interface Table {
  header: string[];
  rows: string[][];
}

function overviewTable(summary: RunSummary): Table {
  const rows: string[][] = [];
  const add = (label: string, start: SummaryEvaluation, end: SummaryEvaluation) => {
    rows.push([`${label}: all families`, interval(start), interval(end), `${((end.accuracy - start.accuracy) * 100).toFixed(1)}`]);
    rows.push([`${label}: code-helps families`, interval(start.codeHelps), interval(end.codeHelps), `${((end.codeHelps.accuracy - start.codeHelps.accuracy) * 100).toFixed(1)}`]);
    rows.push([`${label}: text families`, interval(start.text), interval(end.text), `${((end.text.accuracy - start.text.accuracy) * 100).toFixed(1)}`]);
  };
  add(summary.config.tools ? 'with interpreter' : 'without interpreter', summary.start, summary.end);
  if (summary.withoutTools) add('interpreter off at evaluation', summary.withoutTools.start, summary.withoutTools.end);
  return { header: ['held-out accuracy (95% CI)', `start (step ${summary.start.step})`, `end (step ${summary.end.step})`, 'change (points)'], rows };
}

function familyTable(summary: RunSummary): Table {
  const rows = Object.entries(summary.end.byFamily).map(([family, end]) => {
    const start = summary.start.byFamily[family];
    return [
      family,
      end.codeHelps ? 'yes' : 'no',
      start ? interval(start) : '–',
      interval(end),
      start ? pct(start.toolCallRate) : '–',
      pct(end.toolCallRate),
    ];
  });
  return { header: ['family', 'code helps', 'start', 'end', 'tool use start', 'tool use end'], rows };
}

function markdownTable(table: Table): string {
  // Family names and figures come from metrics.jsonl, a file anyone could have edited: cells are escaped.
  return [`| ${table.header.map(markdownCell).join(' | ')} |`, `|${table.header.map(() => '---').join('|')}|`, ...table.rows.map((row) => `| ${row.map(markdownCell).join(' | ')} |`)].join('\n');
}

function htmlTable(table: Table): string {
  const head = table.header.map((cell) => `<th>${escapeXml(cell)}</th>`).join('');
  const body = table.rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeXml(cell)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function headline(summary: RunSummary): string {
  const verdict = summary.significant ? 'the 95% intervals do not overlap' : 'the 95% intervals overlap';
  return `Held-out accuracy ${interval(summary.start)} → ${interval(summary.end)} (${summary.gain >= 0 ? '+' : ''}${(summary.gain * 100).toFixed(1)} points; ${verdict}) after ${summary.steps} steps in ${summary.minutes.toFixed(1)} minutes.`;
}

function budgetChanges(steps: readonly StepRecord[]): { x: number; label: string }[] {
  const changes: { x: number; label: string }[] = [];
  for (let i = 1; i < steps.length; i++) {
    const before = steps[i - 1]!;
    const after = steps[i]!;
    if (after.budget !== before.budget) changes.push({ x: before.step, label: `K ${before.budget}→${after.budget}` });
  }
  return changes;
}

export function renderPlots(summary: RunSummary, steps: readonly StepRecord[]): string[] {
  const curve = lineChart({
    title: 'Learning curves',
    xLabel: 'training step',
    yLabel: 'rate',
    yMin: 0,
    yMax: 1,
    series: [
      { name: 'held-out accuracy', points: summary.curve.map((p) => ({ x: p.step, y: p.accuracy, low: p.ci95[0], high: p.ci95[1] })), markers: true },
      { name: 'train accuracy', points: steps.map((s) => ({ x: s.step, y: s.trainAccuracy })) },
      { name: 'tool-call rate', points: steps.map((s) => ({ x: s.step, y: s.toolCallRate })), dashed: true },
      { name: 'tool-token share', points: steps.map((s) => ({ x: s.step, y: s.toolTokenShare })), dashed: true },
      { name: 'exec. error rate', points: steps.map((s) => ({ x: s.step, y: s.executionErrorRate })), dashed: true },
    ],
    verticals: budgetChanges(steps),
  });
  const families = Object.keys(summary.end.byFamily);
  const byFamily = barChart({
    title: 'Held-out accuracy by task family (* = code helps)',
    yLabel: 'accuracy',
    yMax: 1,
    categories: families.map((family) => `${family}${summary.end.byFamily[family]!.codeHelps ? '*' : ''}`),
    series: [
      { name: 'start', values: families.map((f) => summary.start.byFamily[f]?.accuracy ?? null), intervals: families.map((f) => summary.start.byFamily[f]?.ci95 ?? null) },
      { name: 'end', values: families.map((f) => summary.end.byFamily[f]!.accuracy), intervals: families.map((f) => summary.end.byFamily[f]!.ci95) },
    ],
  });
  const codeSeries = [
    { name: `start${summary.config.tools ? ', interpreter' : ''}`, evaluation: summary.start },
    { name: `end${summary.config.tools ? ', interpreter' : ''}`, evaluation: summary.end },
    ...(summary.withoutTools
      ? [
          { name: 'start, no interpreter', evaluation: summary.withoutTools.start },
          { name: 'end, no interpreter', evaluation: summary.withoutTools.end },
        ]
      : []),
  ];
  const codeVsText = barChart({
    title: 'Code-helps vs text families',
    yLabel: 'accuracy',
    yMax: 1,
    categories: ['code-helps families', 'text families'],
    series: codeSeries.map(({ name, evaluation }) => ({
      name,
      values: [evaluation.codeHelps.accuracy, evaluation.text.accuracy],
      intervals: [evaluation.codeHelps.ci95, evaluation.text.ci95],
    })),
  });
  return [curve, ...dynamicsPlots(steps), byFamily, codeVsText];
}

/** A step metric as chart points, leaving out steps that did not record it. */
function metricPoints(steps: readonly StepRecord[], name: string): { x: number; y: number }[] {
  return steps.flatMap((s) => {
    const value = s.metrics[name];
    return value !== undefined && Number.isFinite(value) ? [{ x: s.step, y: value }] : [];
  });
}

/**
 * Training dynamics the paper watches, with the budget switches marked: how long responses grow
 * (policy + tool tokens per trajectory), and the policy's entropy beside the share of tokens whose
 * ratio was clipped (below, above, and by the dual clip).
 */
export function dynamicsPlots(steps: readonly StepRecord[]): string[] {
  const verticals = budgetChanges(steps);
  const length = metricPoints(steps, 'rollout/responseTokensMean');
  const entropy = metricPoints(steps, 'policy/entropy');
  const plots: string[] = [];
  if (length.length > 0) {
    plots.push(lineChart({ title: 'Response length', xLabel: 'training step', yLabel: 'tokens per trajectory', yMin: 0, series: [{ name: 'mean response tokens', points: length }], verticals }));
  }
  if (entropy.length > 0) {
    plots.push(
      lineChart({
        title: 'Entropy and clipping',
        xLabel: 'training step',
        yLabel: 'nats / fraction',
        yMin: 0,
        series: [
          { name: 'entropy (nats/token)', points: entropy },
          { name: 'clipped above (1+ε_high)', points: metricPoints(steps, 'policy/clipFractionHigh'), dashed: true },
          { name: 'clipped below (1−ε_low)', points: metricPoints(steps, 'policy/clipFractionLow'), dashed: true },
          { name: 'dual clip', points: metricPoints(steps, 'policy/dualClipFraction'), dashed: true },
        ],
        verticals,
      }),
    );
  }
  return plots;
}

/** First and last value of each dynamics metric, for the Markdown report. */
function dynamicsTable(steps: readonly StepRecord[]): Table {
  const metrics: [string, string][] = [
    ['rollout/responseTokensMean', 'response tokens per trajectory'],
    ['policy/entropy', 'entropy (nats/token)'],
    ['policy/clipFractionHigh', 'clipped above'],
    ['policy/clipFractionLow', 'clipped below'],
  ];
  const rows = metrics.flatMap(([name, label]) => {
    const points = metricPoints(steps, name);
    if (points.length === 0) return [];
    const first = points[0]!;
    const last = points[points.length - 1]!;
    return [[label, `${first.y.toFixed(3)} (step ${first.x})`, `${last.y.toFixed(3)} (step ${last.x})`]];
  });
  const switches = budgetChanges(steps).map((v) => `${v.label} after step ${v.x}`).join('; ');
  if (switches) rows.push(['tool budget switches', switches, '']);
  return { header: ['training dynamics', 'first', 'last'], rows };
}

export function renderMarkdown(summary: RunSummary, steps: readonly StepRecord[] = []): string {
  const dynamics = dynamicsTable(steps);
  return [
    '# Training report',
    '',
    headline(summary),
    '',
    `Backend ${summary.backend}; interpreter ${summary.config.tools ? 'on' : 'off'}; tool output ${summary.config.maskToolOutput ? 'masked' : 'trained'}; advantage ${summary.config.advantageEstimator}; lr ${summary.config.learningRate}; seed ${summary.config.seed}. Plots: report.html.`,
    '',
    markdownTable(overviewTable(summary)),
    '',
    '## By task family',
    '',
    markdownTable(familyTable(summary)),
    '',
    `Training reward ${summary.training.firstReward.toFixed(3)} → ${summary.training.lastReward.toFixed(3)}; tool-call rate ${pct(summary.training.firstToolCallRate)} → ${pct(summary.training.lastToolCallRate)} (first → last step).`,
    '',
    ...(dynamics.rows.length > 0 ? ['## Training dynamics', '', markdownTable(dynamics), ''] : []),
  ].join('\n');
}

export function renderHtml(summary: RunSummary, steps: readonly StepRecord[]): string {
  const plots = renderPlots(summary, steps)
    .map((svg) => `<figure>${svg}</figure>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cir training report</title>
<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f4f4f4}
figure{margin:1.5em 0}</style></head><body>
<h1>Training report</h1>
<p>${escapeXml(headline(summary))}</p>
${htmlTable(overviewTable(summary))}
${plots}
<h2>By task family</h2>
${htmlTable(familyTable(summary))}
</body></html>
`;
}
