/**
 * Two small inline-SVG charts for the self-contained reports of `cir train` and `cir eval`: lines
 * (learning curves and pass@k curves, with optional interval bands, vertical markers and a log2 x
 * axis) and grouped bars (with optional interval whiskers). No scripts, no external resources. Every
 * label passes through `escapeXml`: family, subject and run names come from data files and must
 * never become markup.
 */

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const FONT = 'font-family="system-ui, sans-serif" font-size="11"';

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Text for one Markdown table cell or line: HTML-significant characters as entities (no markup), `[`,
 * `]` and `\\` as entities too (no link or remote image: `![x](https://…)` in model text stays text,
 * and a backslash cannot undo an escape), pipes escaped, backticks as entities, one line.
 */
export function markdownCell(text: string): string {
  return escapeXml(text)
    .replace(/[[\]\\`]/g, (c) => ({ '[': '&#91;', ']': '&#93;', '\\': '&#92;', '`': '&#96;' })[c]!)
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ');
}

const fmt = (value: number) => (Math.round(value * 100) / 100).toString();

export interface LinePoint {
  x: number;
  y: number;
  /** Interval drawn as a band (e.g. a 95% CI). */
  low?: number;
  high?: number;
}

export interface LineSeries {
  name: string;
  points: LinePoint[];
  color?: string;
  dashed?: boolean;
  /** Draw a dot on each point (sparse series such as evaluations). */
  markers?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  yMin?: number;
  yMax?: number;
  /** Vertical dashed lines, e.g. tool-budget changes. */
  verticals?: { x: number; label: string }[];
  /** 'log2' for k = 1, 2, 4, … (pass@k); points at x ≤ 0 are then left out. Default linear. */
  xScale?: 'linear' | 'log2';
  width?: number;
  height?: number;
}

interface Frame {
  left: number;
  top: number;
  plotWidth: number;
  plotHeight: number;
}

/** The legend column's width: room for its longest name at the 11 px font (about 6.5 px a character). */
function legendWidthFor(names: readonly string[]): number {
  return Math.max(150, 36 + Math.ceil(6.5 * Math.max(0, ...names.map((name) => name.length))));
}

function frameOf(width: number, height: number, legendWidth = 150): Frame {
  return { left: 48, top: 28, plotWidth: width - 48 - legendWidth, plotHeight: height - 28 - 40 };
}

function ticks(min: number, max: number, count: number): number[] {
  if (max <= min) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

/** 1, 2, 4, … within [min, max], at most about ten of them. */
function powersOfTwo(min: number, max: number): number[] {
  const first = Math.ceil(Math.log2(min));
  const last = Math.floor(Math.log2(max));
  const stride = Math.max(1, Math.ceil((last - first + 1) / 10));
  const out: number[] = [];
  for (let e = first; e <= last; e += stride) out.push(2 ** e);
  return out;
}

function legend(names: { name: string; color: string; dashed?: boolean }[], x: number, y: number): string {
  return names
    .map(({ name, color, dashed }, i) => {
      const cy = y + i * 16;
      return `<line x1="${x}" y1="${cy}" x2="${x + 18}" y2="${cy}" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="4 3"' : ''}/><text x="${x + 24}" y="${cy + 4}" ${FONT}>${escapeXml(name)}</text>`;
    })
    .join('');
}

export function lineChart(options: LineChartOptions): string {
  // A long series name widens the chart rather than being cut off at its edge.
  const legendWidth = legendWidthFor(options.series.map((series) => series.name));
  const width = (options.width ?? 640) + legendWidth - 150;
  const height = options.height ?? 300;
  const frame = frameOf(width, height, legendWidth);
  const log2 = options.xScale === 'log2';
  const seriesList = log2 ? options.series.map((s) => ({ ...s, points: s.points.filter((p) => p.x > 0) })) : options.series;
  const all = seriesList.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const xMin = log2 ? Math.min(...xs, 1) : Math.min(...xs, 0);
  const xMax = log2 ? Math.max(...xs, 2 * xMin) : Math.max(...xs, xMin + 1);
  const ys = all.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y]);
  const yMin = options.yMin ?? Math.min(...ys, 0);
  const yMax = options.yMax ?? Math.max(...ys, yMin + 1e-9);
  const position = (x: number) => (log2 ? Math.log2(x) : x);
  const sx = (x: number) => frame.left + ((position(x) - position(xMin)) / (position(xMax) - position(xMin))) * frame.plotWidth;
  const sy = (y: number) => frame.top + frame.plotHeight - ((y - yMin) / (yMax - yMin || 1)) * frame.plotHeight;
  const parts: string[] = [];
  parts.push(`<text x="${frame.left}" y="16" ${FONT} font-weight="bold">${escapeXml(options.title)}</text>`);
  for (const t of ticks(yMin, yMax, 5)) {
    parts.push(`<line x1="${frame.left}" y1="${sy(t)}" x2="${frame.left + frame.plotWidth}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${frame.left - 6}" y="${sy(t) + 4}" text-anchor="end" ${FONT}>${fmt(t)}</text>`);
  }
  // Steps are whole numbers: no tick at 0.25 of a step.
  const integral = xs.every((x) => Number.isInteger(x));
  const xTicks = log2 ? powersOfTwo(xMin, xMax) : ticks(xMin, xMax, 8).filter((tick) => !integral || Number.isInteger(tick));
  for (const t of xTicks) {
    parts.push(`<text x="${sx(t)}" y="${frame.top + frame.plotHeight + 14}" text-anchor="middle" ${FONT}>${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${frame.left}" y="${frame.top}" width="${frame.plotWidth}" height="${frame.plotHeight}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${frame.left + frame.plotWidth / 2}" y="${height - 6}" text-anchor="middle" ${FONT}>${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text x="12" y="${frame.top + frame.plotHeight / 2}" text-anchor="middle" transform="rotate(-90 12 ${frame.top + frame.plotHeight / 2})" ${FONT}>${escapeXml(options.yLabel)}</text>`);
  for (const marker of options.verticals ?? []) {
    const x = sx(marker.x);
    parts.push(`<line x1="${x}" y1="${frame.top}" x2="${x}" y2="${frame.top + frame.plotHeight}" stroke="#888" stroke-dasharray="5 4"/>`);
    parts.push(`<text x="${x + 3}" y="${frame.top + 10}" ${FONT} fill="#555">${escapeXml(marker.label)}</text>`);
  }
  const keys: { name: string; color: string; dashed?: boolean }[] = [];
  seriesList.forEach((series, i) => {
    const color = series.color ?? PALETTE[i % PALETTE.length]!;
    keys.push({ name: series.name, color, ...(series.dashed ? { dashed: true } : {}) });
    const banded = series.points.filter((p) => p.low !== undefined && p.high !== undefined);
    if (banded.length > 1) {
      const upper = banded.map((p) => `${sx(p.x)},${sy(p.high!)}`);
      const lower = banded.map((p) => `${sx(p.x)},${sy(p.low!)}`).reverse();
      parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.15" stroke="none"/>`);
    }
    if (series.points.length > 1) {
      const path = series.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ');
      parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    }
    if (series.markers || series.points.length === 1) {
      for (const p of series.points) {
        parts.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="3" fill="${color}"><title>${escapeXml(`${series.name} @ ${p.x}: ${fmt(p.y)}`)}</title></circle>`);
      }
    }
  });
  parts.push(legend(keys, frame.left + frame.plotWidth + 12, frame.top + 8));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}">${parts.join('')}</svg>`;
}

export interface BarSeries {
  name: string;
  values: (number | null)[];
  intervals?: ([number, number] | null)[];
  color?: string;
}

export interface BarChartOptions {
  title: string;
  /** Under the category labels; optional. */
  xLabel?: string;
  yLabel: string;
  categories: string[];
  series: BarSeries[];
  yMax?: number;
  width?: number;
  height?: number;
}

export function barChart(options: BarChartOptions): string {
  // Each category's slot fits its bars and, when every category is labelled, its (shortened) label.
  const labelled = options.categories.length <= 24;
  const longest = Math.min(14, Math.max(0, ...options.categories.map((category) => category.length)));
  const slotWidth = Math.max(24 + options.series.length * 16, labelled ? 7 * longest + 8 : 0);
  const legendWidth = legendWidthFor(options.series.map((series) => series.name));
  const width = (options.width ?? Math.min(960, Math.max(480, 48 + options.categories.length * slotWidth + 150))) + legendWidth - 150;
  const height = options.height ?? 300;
  const frame = frameOf(width, height, legendWidth);
  const values = options.series.flatMap((s) => [...s.values.filter((v): v is number => v !== null), ...(s.intervals ?? []).flatMap((i) => (i ? [i[1]] : []))]);
  const yMax = options.yMax ?? Math.max(...values, 1e-9);
  const sy = (y: number) => frame.top + frame.plotHeight - (y / yMax) * frame.plotHeight;
  const slot = frame.plotWidth / Math.max(1, options.categories.length);
  const padding = Math.min(12, slot * 0.2); // between categories
  const barWidth = Math.max(2, (slot - padding) / Math.max(1, options.series.length));
  const gap = Math.min(2, barWidth * 0.15); // between a category's bars
  const parts: string[] = [];
  parts.push(`<text x="${frame.left}" y="16" ${FONT} font-weight="bold">${escapeXml(options.title)}</text>`);
  for (const t of ticks(0, yMax, 5)) {
    parts.push(`<line x1="${frame.left}" y1="${sy(t)}" x2="${frame.left + frame.plotWidth}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${frame.left - 6}" y="${sy(t) + 4}" text-anchor="end" ${FONT}>${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${frame.left}" y="${frame.top}" width="${frame.plotWidth}" height="${frame.plotHeight}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="12" y="${frame.top + frame.plotHeight / 2}" text-anchor="middle" transform="rotate(-90 12 ${frame.top + frame.plotHeight / 2})" ${FONT}>${escapeXml(options.yLabel)}</text>`);
  const keys: { name: string; color: string }[] = [];
  options.series.forEach((series, s) => {
    const color = series.color ?? PALETTE[s % PALETTE.length]!;
    keys.push({ name: series.name, color });
    series.values.forEach((value, c) => {
      if (value === null) return;
      const x = frame.left + c * slot + padding / 2 + s * barWidth;
      const label = `${series.name} / ${options.categories[c] ?? ''}: ${fmt(value)}`;
      parts.push(`<rect x="${x}" y="${sy(value)}" width="${barWidth - gap}" height="${frame.top + frame.plotHeight - sy(value)}" fill="${color}"><title>${escapeXml(label)}</title></rect>`);
      const interval = series.intervals?.[c];
      if (interval) {
        const cx = x + (barWidth - gap) / 2;
        parts.push(`<line x1="${cx}" y1="${sy(interval[0])}" x2="${cx}" y2="${sy(interval[1])}" stroke="#333"/>`);
        for (const end of interval) parts.push(`<line x1="${cx - 3}" y1="${sy(end)}" x2="${cx + 3}" y2="${sy(end)}" stroke="#333"/>`);
      }
    });
  });
  // Many categories (a histogram): label every few; long names are shortened.
  const every = labelled ? 1 : Math.ceil(options.categories.length / 12);
  options.categories.forEach((category, c) => {
    if (c % every !== 0) return;
    const x = frame.left + c * slot + slot / 2;
    const label = category.length > 14 ? `${category.slice(0, 13)}…` : category;
    parts.push(`<text x="${x}" y="${frame.top + frame.plotHeight + 14}" text-anchor="middle" ${FONT}>${escapeXml(label)}</text>`);
  });
  if (options.xLabel) parts.push(`<text x="${frame.left + frame.plotWidth / 2}" y="${height - 6}" text-anchor="middle" ${FONT}>${escapeXml(options.xLabel)}</text>`);
  // One unnamed series needs no legend.
  if (keys.length > 1 || keys.some((key) => key.name !== '')) parts.push(legend(keys, frame.left + frame.plotWidth + 12, frame.top + 8));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}">${parts.join('')}</svg>`;
}
