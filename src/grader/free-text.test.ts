import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradeResponse } from './grade.js';
import { freeTextCases } from './testing/labelled.js';

const cases = freeTextCases();
const sections = [...new Set(cases.map((c) => c.section))];

test('the free-text suite has at least 300 cases, with negatives of every kind', () => {
  assert.ok(cases.length >= 300, `only ${cases.length} cases`);
  assert.ok(cases.filter((c) => !c.expected).length >= 100);
  for (const name of ['numbers', 'math delimiters', 'percent', 'text answers', 'equations', 'sets', 'worked solutions', 'negatives: a right number', 'negatives: near misses']) {
    const inSection = cases.filter((c) => c.section.startsWith(name));
    assert.ok(inSection.length > 0, `no section for ${name}`);
    assert.ok(inSection.some((c) => !c.expected), `no negatives in ${name}`);
  }
});

for (const section of sections) {
  test(`free text: ${section}`, () => {
    const wrong = cases
      .filter((c) => c.section === section)
      .map((c) => ({ c, result: gradeResponse(c.gold, c.predicted, { extraction: 'free-text', goldAsText: true }) }))
      .filter(({ c, result }) => result.correct !== c.expected)
      .map(
        ({ c, result }) =>
          `${c.expected ? 'missed' : 'false positive'}: ${JSON.stringify(c.gold)} ≡ ${JSON.stringify(c.predicted)} read ${JSON.stringify(result.goldExtractions?.[0]?.answer)} vs ${JSON.stringify(result.extraction.answer)} by ${result.extraction.method} (${result.verdict.reason}${result.verdict.detail ? `: ${result.verdict.detail}` : ''})`,
      );
    assert.deepEqual(wrong, []);
  });
}
