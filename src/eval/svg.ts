/**
 * Small inline-SVG charts for the self-contained report: line charts (pass@k curves) and bar charts
 * (accuracy by subject, histograms). Every label passes through `escapeHtml`: subjects and run names
 * come from data files and must never become markup.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
const WIDTH = 560;
const HEIGHT = 300;
const MARGIN = { left: 56, right: 16, top: 28, bottom: 48 };

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function frame(title: string, body: string, xLabel: string, yLabel: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(title)}">`,
    `<text x="${WIDTH / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(title)}</text>`,
    body,
    `<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 8}" text-anchor="middle" font-size="11">${escapeHtml(xLabel)}</text>`,
    `<text x="14" y="${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 14 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2})">${escapeHtml(yLabel)}</text>`,
    '</svg>',
  ].join('\n');
}

export interface LineSeries {
  name: string;
  points: { x: number; y: number; low?: number; high?: number }[];
}

/** Lines over a log2 x axis (k = 1, 2, 4, …) and a [0, 1] y axis, with interval bands when given. */
export function lineChart(title: string, series: readonly LineSeries[], xLabel: string, yLabel: string): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x)).filter((x) => x > 0);
  const maxX = Math.max(2, ...xs);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number): number => MARGIN.left + (Math.log2(x) / Math.log2(maxX)) * plotWidth;
  const sy = (y: number): number => MARGIN.top + (1 - y) * plotHeight;
  const parts: string[] = [];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${sy(tick)}" y2="${sy(tick)}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${sy(tick) + 4}" text-anchor="end" font-size="10">${format(tick)}</text>`);
  }
  for (let k = 1; k <= maxX; k *= 2) {
    parts.push(`<text x="${sx(k)}" y="${HEIGHT - MARGIN.bottom + 14}" text-anchor="middle" font-size="10">${k}</text>`);
  }
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] ?? '#000';
    const points = s.points.filter((p) => p.x > 0 && Number.isFinite(p.y));
    const band = points.filter((p) => p.low !== undefined && p.high !== undefined);
    if (band.length > 1) {
      const upper = band.map((p) => `${sx(p.x).toFixed(1)},${sy(p.high ?? p.y).toFixed(1)}`);
      const lower = [...band].reverse().map((p) => `${sx(p.x).toFixed(1)},${sy(p.low ?? p.y).toFixed(1)}`);
      parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" opacity="0.15"/>`);
    }
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of points) parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${color}"><title>${escapeHtml(`${s.name} k=${p.x}: ${p.y.toFixed(3)}`)}</title></circle>`);
    parts.push(`<rect x="${MARGIN.left + 8}" y="${MARGIN.top + 4 + i * 14}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${MARGIN.left + 22}" y="${MARGIN.top + 13 + i * 14}" font-size="11">${escapeHtml(s.name)}</text>`);
  });
  return frame(title, parts.join('\n'), xLabel, yLabel);
}

/** Vertical bars; `maxY` fixes the scale (1 for accuracies), otherwise the largest value. */
export function barChart(title: string, bars: readonly { label: string; value: number }[], xLabel: string, yLabel: string, maxY?: number): string {
  const top = maxY ?? Math.max(1, ...bars.map((b) => b.value));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const slot = plotWidth / Math.max(1, bars.length);
  const parts: string[] = [];
  for (const fraction of [0, 0.5, 1]) {
    const y = MARGIN.top + (1 - fraction) * plotHeight;
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end" font-size="10">${format(top * fraction)}</text>`);
  }
  bars.forEach((bar, i) => {
    const height = top > 0 ? (Math.max(0, bar.value) / top) * plotHeight : 0;
    const x = MARGIN.left + i * slot + slot * 0.1;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${(MARGIN.top + plotHeight - height).toFixed(1)}" width="${(slot * 0.8).toFixed(1)}" height="${height.toFixed(1)}" fill="${PALETTE[0]}"><title>${escapeHtml(`${bar.label}: ${format(bar.value)}`)}</title></rect>`,
    );
    const label = bar.label.length > 14 ? `${bar.label.slice(0, 13)}…` : bar.label;
    if (bars.length <= 24 || i % Math.ceil(bars.length / 12) === 0) {
      parts.push(`<text x="${(x + slot * 0.4).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 14}" text-anchor="middle" font-size="9">${escapeHtml(label)}</text>`);
    }
  });
  return frame(title, parts.join('\n'), xLabel, yLabel);
}
