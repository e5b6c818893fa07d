import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barChart, escapeXml, lineChart } from './svg.js';

const textsOf = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

test('labels from data never become markup', () => {
  assert.equal(escapeXml(`<a href="x" onerror='y'>&</a>`), '&lt;a href=&quot;x&quot; onerror=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  const svg = barChart({ title: '<script>', yLabel: 'y', categories: ['<img src=x>'], series: [{ name: '"><b>', values: [1] }] });
  assert.doesNotMatch(svg, /<script|<img|<b>/);
});

test('a log2 axis ticks at powers of two and drops points at x ≤ 0', () => {
  const svg = lineChart({ title: 't', xLabel: 'k', yLabel: 'acc', xScale: 'log2', yMin: 0, yMax: 1, series: [{ name: 'a', points: [0, 1, 2, 4, 8, 16].map((x) => ({ x, y: 0.5 })), markers: true }] });
  const texts = textsOf(svg);
  for (const k of ['1', '2', '4', '8', '16']) assert.ok(texts.includes(k), `tick ${k}`);
  assert.ok(!texts.includes('3') && !texts.includes('0.5'));
  assert.equal((svg.match(/<circle /g) ?? []).length, 5);
  // Equal ratios are equal distances.
  const xs = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.ok(Math.abs(xs[1]! - xs[0]! - (xs[4]! - xs[3]!)) < 1e-6);
});

test('bars: many categories are labelled every few, long labels shortened, one unnamed series has no legend', () => {
  const many = barChart({ title: 't', yLabel: 'n', categories: Array.from({ length: 48 }, (_, i) => `bin${i}`), series: [{ name: '', values: Array.from({ length: 48 }, () => 1) }] });
  const labels = textsOf(many).filter((text) => text!.startsWith('bin'));
  assert.equal(labels.length, 12);
  assert.equal((many.match(/<rect [^>]*fill="#1f77b4"/g) ?? []).length, 48);
  assert.doesNotMatch(many, /stroke-width="2"/, 'no legend swatch');
  const long = barChart({ title: 't', yLabel: 'acc', categories: ['Intermediate Algebra'], series: [{ name: 'start', values: [0.5] }, { name: 'end', values: [0.7] }] });
  assert.ok(textsOf(long).includes('Intermediate …'));
  assert.ok(textsOf(long).includes('start') && textsOf(long).includes('end'));
});

test('a long series name widens the chart: its legend text ends inside the picture, the plot keeps its width', () => {
  const name = 'text-only-trained, no interpreter';
  const short = lineChart({ title: 't', xLabel: 'k', yLabel: 'acc', series: [{ name: 'a', points: [{ x: 1, y: 0.5 }, { x: 2, y: 0.6 }] }] });
  const long = lineChart({ title: 't', xLabel: 'k', yLabel: 'acc', series: [{ name, points: [{ x: 1, y: 0.5 }, { x: 2, y: 0.6 }] }] });
  const widthOf = (svg: string) => Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);
  const plotWidthOf = (svg: string) => Number(/<rect x="48" y="28" width="([\d.]+)"/.exec(svg)![1]);
  assert.equal(widthOf(short), 640);
  assert.equal(plotWidthOf(long), plotWidthOf(short));
  const textX = Number(new RegExp(`<text x="([\\d.]+)"[^>]*>${name}</text>`).exec(long)![1]);
  assert.ok(textX + 6.5 * name.length <= widthOf(long), `legend ends at ${textX + 6.5 * name.length}, picture is ${widthOf(long)} wide`);
});
