/** The reproduction's report: each finding's claim, measure, numbers with intervals and verdict, and its figure. */
import { barChart, escapeXml, lineChart, markdownCell } from '../plot/svg.js';
import type { Reproduction } from './run.js';

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}` : '–');
const difference = (d: { estimate: number; low: number; high: number }) => `${pct(d.estimate)} [${pct(d.low)}, ${pct(d.high)}] points`;

function settingsLine(r: Reproduction): string {
  const base = r.plan.base;
  return `Embedded model, ${base.rl.totalSteps} steps × ${base.rl.promptsPerStep} prompts × ${base.rl.groupSize} rollouts per run, held-out evaluation every ${base.eval.every} steps on ${base.eval.tasks} generated tasks (greedy, budget ${base.eval.toolBudget}) and validation at the current budget every ${base.validation.every}; pass@k on ${r.plan.passAtK.tasks} held-out tasks × ${r.plan.passAtK.samples} samples at T ${r.plan.passAtK.temperature}, budget ${r.plan.passAtK.budget}. Estimated ${r.plan.estimatedMinutes.toFixed(0)} minutes (budget ${r.plan.minutesBudget}); took ${r.minutes.toFixed(1)}.`;
}

export function renderReportMarkdown(r: Reproduction): string {
  const lines = ['# The paper\'s findings, reproduced at CPU scale', '', settingsLine(r), '', '| finding | claim | verdict | difference (95% CI) |', '|---|---|---|---|'];
  for (const f of r.findings) lines.push(`| (${f.id}) | ${markdownCell(f.claim)} | **${f.verdict}** | ${difference(f.difference)} |`);
  for (const f of r.findings) {
    lines.push('', `## (${f.id}) ${f.claim}`, '', `Measure: ${f.measure}.`, '', `Verdict: **${f.verdict}**; difference ${difference(f.difference)}.`, '', '```json', JSON.stringify(f.details, null, 2), '```');
  }
  lines.push('', '## pass@k (the capability boundary)', '', '| policy | interpreter | tasks | ' + (r.passAtK[0]?.curve.map((p) => `pass@${p.k}`).join(' | ') ?? '') + ' |', '|---|---|---|' + (r.passAtK[0]?.curve.map(() => '---|').join('') ?? ''));
  for (const c of r.passAtK) lines.push(`| ${c.policy} | ${c.tools ? 'on' : 'off'} | ${c.tasks} | ${c.curve.map((p) => `${pct(p.estimate)} [${pct(p.low)}, ${pct(p.high)}]`).join(' | ')} |`);
  lines.push('', 'Figures: report.html. Runs: runs/<arm>/ (each with its own report).', '');
  return lines.join('\n');
}

function figures(r: Reproduction): string[] {
  const stability = (title: string, arms: string[]) =>
    lineChart({
      title,
      xLabel: 'training step',
      yLabel: 'held-out accuracy',
      yMin: 0,
      yMax: 1,
      series: arms.flatMap((arm) => [
        { name: `${arm}, K ${r.plan.base.eval.toolBudget}`, points: (r.curves[arm] ?? []).map((p) => ({ x: p.step, y: p.accuracy })), markers: true },
        ...((r.currentBudgetCurves[arm]?.length ?? 0) > 0 ? [{ name: `${arm}, current K`, points: r.currentBudgetCurves[arm]!.map((p) => ({ x: p.step, y: p.accuracy })), dashed: true, markers: true }] : []),
      ]),
    });
  const boundary = lineChart({
    title: '(d) pass@k: the capability boundary',
    xLabel: 'k',
    yLabel: 'pass@k',
    yMin: 0,
    yMax: 1,
    xScale: 'log2',
    series: r.passAtK.map((c) => ({ name: `${c.policy}, ${c.tools ? 'interpreter' : 'no interpreter'}`, points: c.curve.map((p) => ({ x: p.k, y: p.estimate, low: p.low, high: p.high })), markers: true, dashed: !c.tools })),
  });
  const e = r.findings.find((f) => f.id === 'e')!.details as Record<string, { withFailure: { share: number; ci95: [number, number] }; recovered: { share: number; ci95: [number, number] } }>;
  const recovery = barChart({
    title: '(e) trajectories with a failed execution',
    yLabel: 'share',
    yMax: 1,
    categories: ['end correct', 'recovered'],
    series: ['start', 'trained'].map((name) => ({ name, values: [e[name]!.withFailure.share, e[name]!.recovered.share], intervals: [e[name]!.withFailure.ci95, e[name]!.recovered.ci95] })),
  });
  return [stability('(b) progressive vs fixed tool budget', ['default', 'fixed-budget']), stability('(c) interpreter output masked vs trained', ['default', 'unmasked']), boundary, recovery];
}

export function renderReportHtml(r: Reproduction): string {
  const rows = r.findings
    .map((f) => `<tr><td>(${f.id})</td><td>${escapeXml(f.claim)}</td><td>${escapeXml(f.measure)}</td><td><b>${escapeXml(f.verdict)}</b></td><td>${escapeXml(difference(f.difference))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cir reproduce</title>
<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
figure{margin:1.5em 0}</style></head><body>
<h1>The paper's findings, reproduced at CPU scale</h1>
<p>${escapeXml(settingsLine(r))}</p>
<table><thead><tr><th>finding</th><th>claim</th><th>measure</th><th>verdict</th><th>difference (95% CI)</th></tr></thead><tbody>${rows}</tbody></table>
${figures(r)
  .map((svg) => `<figure>${svg}</figure>`)
  .join('\n')}
</body></html>
`;
}
