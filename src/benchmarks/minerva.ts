/**
 * Minerva Math (MIT OCW problems as packaged by Qwen2.5-Math): answers with units and scientific
 * notation. The boxed reference and every `alt_answers` spelling are accepted; numbers compare
 * with the relative tolerance 1e-4 that Qwen2.5-Math's `math_equal` (the source of this file) uses.
 */
import { InputError } from '../core/errors.js';
import { gradeResponse } from '../grader/index.js';
import { readJsonl, RecordReader } from './jsonl.js';
import { instructedQuestion } from '../prompts/index.js';
import type { BenchmarkGrade, BenchmarkItem, BenchmarkSpec } from './types.js';

export interface MinervaRecord {
  id: string;
  problem: string;
  answer: string;
  altAnswers: string[];
  subject?: string;
}

export const MINERVA_RELATIVE_TOLERANCE = 1e-4;

export function parseMinervaRecord(value: Record<string, unknown>, where: string): MinervaRecord {
  const r = new RecordReader(value, where);
  const record: MinervaRecord = {
    id: r.string('id'),
    problem: r.string('problem'),
    answer: r.string('answer'),
    altAnswers: r.stringArray('alt_answers', true) ?? [],
  };
  if (record.answer.trim() === '') throw new InputError('field "answer" is empty', where);
  const subject = r.optionalString('subject');
  if (subject) record.subject = subject;
  return record;
}

/** Every accepted reference, the boxed one first, without duplicates. */
export function minervaGolds(record: MinervaRecord): string[] {
  return [...new Set([record.answer, ...record.altAnswers].filter((a) => a.trim() !== ''))];
}

export function gradeMinerva(record: MinervaRecord, responseText: string): BenchmarkGrade {
  const result = gradeResponse(minervaGolds(record), responseText, { relativeTolerance: MINERVA_RELATIVE_TOLERANCE, extraction: 'answer' });
  const grade: BenchmarkGrade = {
    correct: result.correct,
    extracted: result.extraction.answer ?? '',
    reason: result.verdict.reason,
  };
  if (result.matchedGold !== undefined) grade.detail = { matchedGold: result.matchedGold };
  return grade;
}

export function minervaItem(record: MinervaRecord): BenchmarkItem {
  return {
    id: record.id,
    groups: record.subject ? { subject: record.subject } : {},
    reference: minervaGolds(record).join(' | '),
    prompt: (mode) => instructedQuestion(record.problem, mode),
    grade: async (responseText) => gradeMinerva(record, responseText),
  };
}

export async function loadMinerva(path: string): Promise<MinervaRecord[]> {
  return (await readJsonl(path)).map(({ line, value }) => parseMinervaRecord(value, `${path}:${line}`));
}

export const minerva: BenchmarkSpec = {
  name: 'minerva',
  description: 'Minerva Math (272 OCW problems), any of the boxed answer and alt_answers accepted; answers read in the grader\'s `answer` extraction mode',
  defaultFile: 'minerva_math.jsonl',
  needsExecutor: false,
  load: async (path) => (await loadMinerva(path)).map(minervaItem),
  caveats: () => [],
};
