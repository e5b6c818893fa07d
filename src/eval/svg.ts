/**
 * The evaluation report's charts, drawn by the shared plotting module (src/plot): pass@k curves on a
 * log2 axis, accuracy by subject or level, and histograms.
 */
import { barChart as groupedBars, escapeXml, lineChart as lines } from '../plot/svg.js';

export const escapeHtml = escapeXml;

export interface LineSeries {
  name: string;
  points: { x: number; y: number; low?: number; high?: number }[];
}

/** Lines over a log2 x axis (k = 1, 2, 4, …) and a [0, 1] y axis, with interval bands when given. */
export function lineChart(title: string, series: readonly LineSeries[], xLabel: string, yLabel: string): string {
  return lines({
    title,
    xLabel,
    yLabel,
    series: series.map((s) => ({ name: s.name, points: s.points.filter((p) => Number.isFinite(p.y)), markers: true })),
    yMin: 0,
    yMax: 1,
    xScale: 'log2',
    width: 560,
  });
}

/** Vertical bars; `maxY` fixes the scale (1 for accuracies), otherwise the largest value. */
export function barChart(title: string, bars: readonly { label: string; value: number }[], xLabel: string, yLabel: string, maxY?: number): string {
  return groupedBars({
    title,
    xLabel,
    yLabel,
    categories: bars.map((bar) => bar.label),
    series: [{ name: '', values: bars.map((bar) => Math.max(0, bar.value)) }],
    yMax: maxY ?? Math.max(1, ...bars.map((bar) => bar.value)),
  });
}
