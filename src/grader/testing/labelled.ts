/** The grader's labelled suites (test data beside this module, copied to dist-test only). */
import { fileURLToPath } from 'node:url';
import { loadLabelledCases, type LabelledCase } from '../bench.js';

function load(name: string): LabelledCase[] {
  const path = fileURLToPath(new URL(name, import.meta.url));
  const { cases, absent } = loadLabelledCases([path]);
  if (absent.length > 0) throw new Error(`labelled suite missing: ${path}`);
  return cases;
}

/** Final answer against final answer (isEquivalent). */
export const answerCases = (): LabelledCase[] => load('./labelled-cases.txt');

/** Free text against free text (gradeResponse with extraction on both sides). */
export const freeTextCases = (): LabelledCase[] => load('./free-text-cases.txt');
