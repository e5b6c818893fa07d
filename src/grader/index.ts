/** Public surface of the grader: extraction, equivalence, grading and rewards. */
export { EXTRACTION_MODES, extractAnswer, lastBoxed, lastNumberOnLastLine, mathSpans, type Extraction, type ExtractionMethod, type ExtractionMode, type ExtractOptions } from './extract.js';
export { readDecoratedNumber, readProseNumber, type DecoratedNumber } from './number-format.js';
export { isEquivalent, type EquivalenceOptions, type Verdict, type VerdictReason } from './equivalence.js';
export { gradeResponse, trainingReward, validationReward, type GradeOptions, type GradeResult, type RewardOptions } from './grade.js';
export { isEquivalentWithSympy, toSympy, type SympyOptions } from './sympy-slow-path.js';
export { normalizeAnswer, type Normalized } from './normalize.js';
export { parseLatex, type ParseResult } from './latex-parser.js';
export type { Node } from './ast.js';
