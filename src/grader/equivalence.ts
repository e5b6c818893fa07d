/**
 * The decision cascade for "is the predicted answer the reference answer":
 * normalised strings → multiple-choice letters → parse both → structure (lists, sets, tuples,
 * intervals, matrices, relations) → scalars (exact rationals, then complex evaluation, with
 * random points for variables). Every step is bounded by a deadline; nothing throws.
 */
import { seededRandom } from '../core/rng.js';
import { children, hasDecimal, show, variables, type Node } from './ast.js';
import { complexValue, exactValue, type Complex, type Rational } from './evaluate.js';
import { bindConstants, parseLatex } from './latex-parser.js';
import type { ExtractionMethod } from './extract.js';
import { normalizeAnswer } from './normalize.js';

export type VerdictReason =
  | 'numeric'
  | 'symbolic'
  | 'structural'
  | 'string'
  | 'choice'
  | 'no-answer'
  | 'parse-error'
  | 'timeout'
  /** The fast path could not evaluate (e.g. values beyond double range); the sympy slow path may decide. */
  | 'undecided'
  | 'sympy';

export interface Verdict {
  correct: boolean;
  reason: VerdictReason;
  detail?: string;
  /** When the answer was read from a response: the extraction step that found it (extract.ts). */
  extracted_by?: ExtractionMethod;
}

export interface EquivalenceOptions {
  /**
   * Relative tolerance for answers that contain a decimal number (default 1e-7; OlympiadBench
   * records that state an error tolerance pass it here). Exact answers are compared exactly.
   */
  relativeTolerance?: number;
  /** Absolute tolerance, used only against an exact zero (default 1e-12). */
  absoluteTolerance?: number;
  /**
   * Wall-clock budget per comparison in milliseconds (default 500). It is a safety net for a
   * loaded machine; the work itself is capped deterministically (MAX_WORK steps), so a verdict
   * does not depend on how busy the CPU is.
   */
  timeBudgetMs?: number;
  /** Accept `50\%` as 0.5 as well as 50 (default true). */
  percentAsFraction?: boolean;
}

class Timeout extends Error {}

interface Context {
  deadline: number;
  budgetMs: number;
  /** Steps taken (comparisons and evaluation points), capped by MAX_WORK. */
  work: number;
  relativeTolerance: number;
  absoluteTolerance: number;
  /** Tolerance used when both sides are exact expressions evaluated in floating point. */
  exactTolerance: number;
  percent: [boolean, boolean];
  degrees: [boolean, boolean];
  percentAsFraction: boolean;
}

interface Decision {
  equal: boolean;
  reason: VerdictReason;
  detail?: string;
}

const MAX_INPUT = 4000;
const CHOICE = /^\(?([A-J])\)?$/;

export function isEquivalent(gold: string, predicted: string, options: EquivalenceOptions = {}): Verdict {
  try {
    return decide(String(gold), String(predicted), options);
  } catch (error) {
    if (error instanceof Timeout) return { correct: false, reason: 'timeout', detail: error.message };
    return { correct: false, reason: 'parse-error', detail: error instanceof Error ? error.message : String(error) };
  }
}

function decide(gold: string, predicted: string, options: EquivalenceOptions): Verdict {
  if (predicted.trim() === '') return { correct: false, reason: 'no-answer', detail: 'empty prediction' };
  const normalizedGold = normalizeAnswer(gold);
  const normalizedPred = normalizeAnswer(predicted);
  const g = normalizedGold.text;
  const p = normalizedPred.text;
  if (p === '') return { correct: false, reason: 'no-answer', detail: 'prediction is empty after normalisation' };
  const goldBase = normalizedGold.base;
  const predBase = normalizedPred.base;
  if (goldBase !== undefined && predBase !== undefined && goldBase !== predBase) {
    return { correct: false, reason: 'string', detail: `base ${goldBase} vs base ${predBase}` };
  }
  if (g === p && normalizedGold.percent === normalizedPred.percent) return { correct: true, reason: 'string' };
  const goldChoice = CHOICE.exec(g);
  if (goldChoice) {
    // `B`, `(B)`, or a letter that leads the choice text: `(B) 10^-4 eV`, `B. 10^-4 eV`.
    const predChoice = CHOICE.exec(p) ?? /^\(([A-J])\)\s/.exec(p) ?? /^([A-J])[.:)]\s/.exec(p);
    if (predChoice) {
      return { correct: predChoice[1] === goldChoice[1], reason: 'choice', detail: `gold ${goldChoice[1] ?? ''}, predicted ${predChoice[1] ?? ''}` };
    }
  }
  // Two words in \text{} are words even when short (`\text{yes}`): compare them case-insensitively.
  const bothText = /^\s*\\text\{[A-Za-z\s-]+\}\s*$/.test(gold) && /^\s*\\text\{[A-Za-z\s-]+\}\s*$/.test(predicted);
  if ((isWords(g) && isWords(p)) || bothText) {
    return { correct: g.toLowerCase() === p.toLowerCase(), reason: 'string' };
  }
  if (g.length > MAX_INPUT || p.length > MAX_INPUT) {
    return { correct: compact(g) === compact(p), reason: 'string', detail: 'answer too long to parse' };
  }
  const goldParsed = parseLatex(g);
  const predParsed = parseLatex(p);
  if (!goldParsed.ok || !predParsed.ok) {
    if (compact(g) === compact(p)) return { correct: true, reason: 'string' };
    const which = !goldParsed.ok ? `gold: ${goldParsed.error}` : `predicted: ${predParsed.ok ? '' : predParsed.error}`;
    return { correct: false, reason: 'parse-error', detail: which };
  }
  const context: Context = {
    deadline: Date.now() + (options.timeBudgetMs ?? 500),
    budgetMs: options.timeBudgetMs ?? 500,
    work: 0,
    relativeTolerance: options.relativeTolerance ?? 1e-7,
    absoluteTolerance: options.absoluteTolerance ?? 1e-12,
    exactTolerance: 1e-9,
    percent: [normalizedGold.percent, normalizedPred.percent],
    degrees: [normalizedGold.degrees, normalizedPred.degrees],
    percentAsFraction: options.percentAsFraction ?? true,
  };
  const decision = compare(prepare(bindConstants(goldParsed.node)), prepare(bindConstants(predParsed.node)), context);
  const verdict: Verdict = { correct: decision.equal, reason: decision.reason };
  if (decision.detail !== undefined) verdict.detail = decision.detail;
  return verdict;
}

function isWords(text: string): boolean {
  return /^[A-Za-z]{2,}(?:[\s-][A-Za-z]+)*$/.test(text) && !/^[a-z]{2,3}$/.test(text);
}

function compact(text: string): string {
  return text.replace(/[\s{}]/g, '').replace(/\\(?:left|right)/g, '');
}

/** Rewrites `\pm` into the two values it stands for, and inequalities in one variable into intervals. */
function prepare(node: Node): Node {
  switch (node.type) {
    case 'list':
    case 'set':
    case 'union':
      return {
        ...node,
        items: node.items.flatMap((item) => {
          const prepared = prepare(item);
          return prepared.type === 'list' && item.type !== 'list' ? prepared.items : [prepared];
        }),
      } as Node;
    case 'seq':
      return { ...node, items: node.items.map(prepare) };
    case 'rel': {
      const args = node.args.map(prepare);
      return inequalityToInterval({ ...node, args }) ?? { ...node, args };
    }
    case 'mul': {
      // A scalar times a matrix (`\frac{1}{49}\begin{pmatrix}..\end{pmatrix}`): multiply it in.
      const matrices = node.factors.filter((f) => f.type === 'matrix');
      const matrix = matrices[0];
      if (matrices.length === 1 && matrix?.type === 'matrix') {
        const scalars = node.factors.filter((f) => f !== matrix);
        return { type: 'matrix', rows: matrix.rows.map((row) => row.map((entry): Node => ({ type: 'mul', factors: [...scalars, entry] }))) };
      }
      const expanded = expandPm(node);
      return expanded.length === 1 ? (expanded[0] as Node) : { type: 'list', items: expanded };
    }
    default: {
      const expanded = expandPm(node);
      return expanded.length === 1 ? (expanded[0] as Node) : { type: 'list', items: expanded };
    }
  }
}

function expandPm(node: Node): Node[] {
  if (node.type === 'pm') {
    const left = node.left;
    const plus: Node = left ? { type: 'add', terms: [left, node.right] } : node.right;
    const minus: Node = left ? { type: 'add', terms: [left, { type: 'neg', arg: node.right }] } : { type: 'neg', arg: node.right };
    return [plus, minus];
  }
  // A ± inside a product or quotient (e.g. \frac{1 \pm \sqrt5}{2}): substitute each sign.
  if (show(node).includes('±')) {
    const plus = replacePm(node, 1);
    const minus = replacePm(node, -1);
    if (plus && minus) return [plus, minus];
  }
  return [node];
}

function replacePm(node: Node, sign: 1 | -1): Node | null {
  switch (node.type) {
    case 'pm': {
      const right: Node = sign === 1 ? node.right : { type: 'neg', arg: node.right };
      return node.left ? { type: 'add', terms: [node.left, right] } : right;
    }
    case 'add': {
      const terms = node.terms.map((t) => replacePm(t, sign));
      return terms.every((t) => t) ? { type: 'add', terms: terms as Node[] } : null;
    }
    case 'mul': {
      const factors = node.factors.map((t) => replacePm(t, sign));
      return factors.every((t) => t) ? { type: 'mul', factors: factors as Node[] } : null;
    }
    case 'div': {
      const num = replacePm(node.num, sign);
      const den = replacePm(node.den, sign);
      return num && den ? { type: 'div', num, den } : null;
    }
    case 'neg': {
      const arg = replacePm(node.arg, sign);
      return arg ? { type: 'neg', arg } : null;
    }
    case 'num':
    case 'sym':
    case 'const':
      return node;
    default:
      return show(node).includes('±') ? null : node;
  }
}

const INFINITY: Node = { type: 'const', name: 'inf' };
const MINUS_INFINITY: Node = { type: 'neg', arg: INFINITY };

/** `x > 3` → (3, ∞); `1 < x <= 2` → (1, 2]; null when it is not an inequality in one variable. */
function inequalityToInterval(node: Node & { type: 'rel' }): Node | null {
  if (node.ops.some((op) => op === '=' || op === '!=')) return null;
  const allVariables = variables(node);
  if (allVariables.size !== 1) return null;
  const name = [...allVariables][0] as string;
  const index = node.args.findIndex((arg) => arg.type === 'sym' && arg.name === name);
  if (index < 0 || node.args.some((arg, i) => i !== index && variables(arg).size > 0)) return null;
  let lower: Node = MINUS_INFINITY;
  let upper: Node = INFINITY;
  let open: '(' | '[' = '(';
  let close: ')' | ']' = ')';
  const bound = (value: Node, op: string, variableOnLeft: boolean): boolean => {
    const isLess = op === '<' || op === '<=';
    const strict = op === '<' || op === '>';
    // variable < value  or  value > variable → upper bound.
    if (isLess === variableOnLeft) {
      upper = value;
      close = strict ? ')' : ']';
    } else {
      lower = value;
      open = strict ? '(' : '[';
    }
    return true;
  };
  if (node.args.length === 2) {
    const other = node.args[1 - index] as Node;
    bound(other, node.ops[0] as string, index === 0);
  } else if (node.args.length === 3 && index === 1) {
    const a = node.args[0] as Node;
    const b = node.args[2] as Node;
    bound(a, node.ops[0] as string, false);
    bound(b, node.ops[1] as string, true);
  } else return null;
  return { type: 'seq', open, close, items: [lower, upper] };
}

/** Steps per comparison: several times what the largest dataset answer (16 triples, unordered, respelled) needs. */
const MAX_WORK = 5_000;

function checkTime(context: Context): void {
  context.work += 1;
  if (context.work > MAX_WORK) throw new Timeout(`more than ${MAX_WORK} comparison steps`);
  if (Date.now() > context.deadline) throw new Timeout(`over the ${context.budgetMs} ms budget`);
}

function isLabel(node: Node): boolean {
  return node.type === 'rel' && node.ops.every((op) => op === '=') && isLabelSide(node.args[0]);
}

/** `m+n=62` against `62`: an equation whose right side is a constant stands for that constant. */
function constantRightSide(node: Node): Node | null {
  if (node.type !== 'rel' || !node.ops.every((op) => op === '=')) return null;
  const last = node.args[node.args.length - 1] as Node;
  return variables(last).size === 0 ? last : null;
}

function isLabelSide(node: Node | undefined): boolean {
  if (!node) return false;
  if (node.type === 'sym') return true;
  // f(x) = ..., written as f*x by the parser.
  return node.type === 'mul' && node.factors.length === 2 && node.factors.every((f) => f.type === 'sym');
}

function isCollection(node: Node): node is Node & { type: 'list' | 'set' } {
  return node.type === 'list' || node.type === 'set';
}

function compare(a: Node, b: Node, context: Context): Decision {
  checkTime(context);
  if (a.type === 'rel' && b.type === 'rel') return compareRelations(a, b, context);
  if (a.type === 'rel' && isLabel(a)) return compare(a.args[a.args.length - 1] as Node, b, context);
  if (b.type === 'rel' && isLabel(b)) return compare(a, b.args[b.args.length - 1] as Node, context);
  const constantA = b.type !== 'rel' ? constantRightSide(a) : null;
  if (constantA) return compare(constantA, b, context);
  const constantB = a.type !== 'rel' ? constantRightSide(b) : null;
  if (constantB) return compare(a, constantB, context);
  if (isCollection(a) && isCollection(b)) return compareUnordered(a.items, b.items, context);
  if (isCollection(a) && a.items.length === 1) return compare(a.items[0] as Node, b, context);
  if (isCollection(b) && b.items.length === 1) return compare(a, b.items[0] as Node, context);
  if (a.type === 'union' && b.type === 'union') return compareUnordered(a.items, b.items, context);
  if (a.type === 'seq' && b.type === 'seq') return compareSequences(a, b, context);
  // A tuple written without brackets, `1, 2` for `(1, 2)`.
  if (a.type === 'seq' && b.type === 'list' && a.open === '(' && a.close === ')') return compareOrdered(a.items, b.items, context);
  if (b.type === 'seq' && a.type === 'list' && b.open === '(' && b.close === ')') return compareOrdered(a.items, b.items, context);
  if (a.type === 'matrix' || b.type === 'matrix') return compareMatrices(a, b, context);
  if (isStructure(a) || isStructure(b)) return { equal: false, reason: 'structural', detail: `${a.type} vs ${b.type}` };
  return compareScalars(a, b, context);
}

function isStructure(node: Node): boolean {
  return ['list', 'set', 'seq', 'union', 'matrix', 'rel', 'text'].includes(node.type);
}

function compareOrdered(a: Node[], b: Node[], context: Context): Decision {
  if (a.length !== b.length) return { equal: false, reason: 'structural', detail: `${a.length} vs ${b.length} items` };
  for (let k = 0; k < a.length; k += 1) {
    const d = compare(a[k] as Node, b[k] as Node, context);
    if (!d.equal) return { equal: false, reason: 'structural', detail: `item ${k + 1} differs (${d.reason})` };
  }
  return { equal: true, reason: 'structural' };
}

/** Order-free matching; greedy is exact here because equivalence is transitive. */
function compareUnordered(a: Node[], b: Node[], context: Context): Decision {
  if (a.length !== b.length) return { equal: false, reason: 'structural', detail: `${a.length} vs ${b.length} items` };
  const used = new Array<boolean>(b.length).fill(false);
  // Identical spellings pair up first, in linear time; only the rest needs pairwise comparison.
  const bySpelling = new Map<string, number[]>();
  b.forEach((item, k) => {
    const key = show(item);
    bySpelling.set(key, [...(bySpelling.get(key) ?? []), k]);
  });
  const rest: Node[] = [];
  for (const item of a) {
    const slot = bySpelling.get(show(item))?.find((k) => !used[k]);
    if (slot === undefined) rest.push(item);
    else used[slot] = true;
  }
  for (const item of rest) {
    let found = false;
    for (let k = 0; k < b.length; k += 1) {
      if (used[k]) continue;
      if (compare(item, b[k] as Node, context).equal) {
        used[k] = true;
        found = true;
        break;
      }
    }
    if (!found) return { equal: false, reason: 'structural', detail: `no match for ${show(item)}` };
  }
  return { equal: true, reason: 'structural' };
}

function containsInfinity(node: Node): boolean {
  return (node.type === 'const' && node.name === 'inf') || children(node).some(containsInfinity);
}

function isInfinite(node: Node): boolean {
  return (node.type === 'const' && node.name === 'inf') || (node.type === 'neg' && isInfinite(node.arg));
}

function compareSequences(a: Node & { type: 'seq' }, b: Node & { type: 'seq' }, context: Context): Decision {
  if (a.items.length !== b.items.length) return { equal: false, reason: 'structural', detail: `${a.items.length} vs ${b.items.length} items` };
  const first = a.items[0];
  const last = a.items[a.items.length - 1];
  // An end at infinity is open whatever bracket was written.
  const openMatches = a.open === b.open || (first !== undefined && isInfinite(first));
  const closeMatches = a.close === b.close || (last !== undefined && isInfinite(last));
  if (!openMatches || !closeMatches) return { equal: false, reason: 'structural', detail: `brackets ${a.open}${a.close} vs ${b.open}${b.close}` };
  return compareOrdered(a.items, b.items, context);
}

function compareMatrices(a: Node, b: Node, context: Context): Decision {
  const flat = (node: Node): Node[] | null => {
    if (node.type === 'matrix') {
      const columns = node.rows[0]?.length ?? 0;
      if (node.rows.length === 1 || columns === 1) return node.rows.flat();
      return null;
    }
    if (node.type === 'seq' && node.open === '(' && node.close === ')') return node.items;
    return null;
  };
  if (a.type === 'matrix' && b.type === 'matrix') {
    if (a.rows.length !== b.rows.length || a.rows.some((row, i) => row.length !== b.rows[i]?.length)) {
      return { equal: false, reason: 'structural', detail: 'matrix shapes differ' };
    }
    return compareOrdered(a.rows.flat(), b.rows.flat(), context);
  }
  const fa = flat(a);
  const fb = flat(b);
  if (fa && fb) return compareOrdered(fa, fb, context);
  return { equal: false, reason: 'structural', detail: `${a.type} vs ${b.type}` };
}

function flipped(op: string): string {
  return op === '<' ? '>' : op === '>' ? '<' : op === '<=' ? '>=' : op === '>=' ? '<=' : op;
}

function compareRelations(a: Node & { type: 'rel' }, b: Node & { type: 'rel' }, context: Context): Decision {
  if (isLabel(a) && isLabel(b) && a.args.length === 2 && b.args.length === 2) {
    const la = a.args[0] as Node;
    const lb = b.args[0] as Node;
    if (show(la) === show(lb) || (variables(a.args[1] as Node).size === 0 && variables(b.args[1] as Node).size === 0)) {
      return compare(a.args[1] as Node, b.args[1] as Node, context);
    }
  }
  if (a.args.length !== b.args.length) return { equal: false, reason: 'structural', detail: 'relation chains differ in length' };
  if (a.args.length === 2) {
    const opA = a.ops[0] as string;
    const opB = b.ops[0] as string;
    const sameDirection = opA === opB;
    if (!sameDirection && flipped(opA) !== opB) return { equal: false, reason: 'structural', detail: `${opA} vs ${opB}` };
    const differenceA: Node = { type: 'add', terms: [a.args[0] as Node, { type: 'neg', arg: a.args[1] as Node }] };
    const differenceB: Node = sameDirection
      ? { type: 'add', terms: [b.args[0] as Node, { type: 'neg', arg: b.args[1] as Node }] }
      : { type: 'add', terms: [b.args[1] as Node, { type: 'neg', arg: b.args[0] as Node }] };
    const symmetric = opA === '=' || opA === '!=';
    return proportional(differenceA, differenceB, symmetric, context);
  }
  for (let k = 0; k < a.ops.length; k += 1) {
    if (a.ops[k] !== b.ops[k]) return { equal: false, reason: 'structural', detail: 'relation operators differ' };
  }
  return compareOrdered(a.args, b.args, context);
}

/** Equations/inequalities are the same when their differences are proportional (positively for inequalities). */
function proportional(a: Node, b: Node, symmetric: boolean, context: Context): Decision {
  const names = [...variables(b, variables(a))].sort();
  const random = seededRandom(7919);
  let ratio: number | null = null;
  let valid = 0;
  for (let attempt = 0; attempt < 12 && valid < 5; attempt += 1) {
    checkTime(context);
    const bindings = new Map(names.map((name) => [name, 0.3 + 2 * random()] as const));
    const va = complexValue(a, bindings);
    const vb = complexValue(b, bindings);
    if (!va || !vb) return { equal: false, reason: 'undecided', detail: 'relation sides could not be evaluated' };
    if (!finite(va) || !finite(vb) || va.im !== 0 || vb.im !== 0) continue;
    if (Math.abs(vb.re) < 1e-12 || Math.abs(va.re) < 1e-12) {
      if (Math.abs(vb.re) < 1e-12 && Math.abs(va.re) < 1e-12) {
        valid += 1;
        continue;
      }
      return { equal: false, reason: 'symbolic' };
    }
    const r = va.re / vb.re;
    if (ratio === null) ratio = r;
    else if (!close(c(r), c(ratio), context.exactTolerance * 100, 0)) return { equal: false, reason: 'symbolic' };
    valid += 1;
  }
  if (valid < 2) return { equal: false, reason: 'undecided', detail: 'too few points where both sides are defined' };
  if (ratio !== null && !symmetric && ratio < 0) return { equal: false, reason: 'symbolic', detail: 'inequality direction differs' };
  return { equal: true, reason: 'symbolic' };
}

function c(re: number, im = 0): Complex {
  return { re, im };
}

function finite(value: Complex): boolean {
  return Number.isFinite(value.re) && Number.isFinite(value.im);
}

/**
 * Relative closeness. The absolute tolerance only rescues a comparison with an exact zero
 * (sin π evaluates to 1e-16): applied everywhere it would equate 1.3e-27 with 2.3e-27.
 */
function close(a: Complex, b: Complex, relative: number, absolute: number): boolean {
  const difference = Math.hypot(a.re - b.re, a.im - b.im);
  const magnitudeA = Math.hypot(a.re, a.im);
  const magnitudeB = Math.hypot(b.re, b.im);
  if (difference <= relative * Math.max(magnitudeA, magnitudeB) * (1 + 1e-9)) return true;
  return Math.min(magnitudeA, magnitudeB) === 0 && difference <= absolute;
}

function rationalClose(a: Rational, b: Rational, relative: number): boolean {
  // |a - b| <= relative * max(|a|, |b|), in exact arithmetic.
  const abs = (x: bigint) => (x < 0n ? -x : x);
  const differenceNum = abs(a.num * b.den - b.num * a.den);
  const differenceDen = a.den * b.den;
  const scaleA = abs(a.num) * b.den;
  const scaleB = abs(b.num) * a.den;
  const scale = scaleA > scaleB ? scaleA : scaleB;
  const [toleranceNum, toleranceDen] = toFraction(relative);
  return differenceNum * toleranceDen <= toleranceNum * scale && differenceDen > 0n;
}

function toFraction(value: number): [bigint, bigint] {
  const den = 10n ** 15n;
  return [BigInt(Math.round(value * 1e15)), den];
}

const PERCENT_FACTORS = [1, 0.01, 100];

function compareScalars(a: Node, b: Node, context: Context): Decision {
  if (show(a) === show(b)) return { equal: true, reason: 'symbolic' };
  const names = [...variables(b, variables(a))].sort();
  const decimal = hasDecimal(a) || hasDecimal(b);
  const tolerance = decimal ? context.relativeTolerance : context.exactTolerance;
  const anyPercent = context.percentAsFraction && (context.percent[0] || context.percent[1]);
  if (names.length === 0) {
    const exactA = exactValue(a);
    const exactB = exactValue(b);
    if (exactA && exactB) {
      const equal = decimal ? rationalClose(exactA, exactB, tolerance) : exactA.num === exactB.num && exactA.den === exactB.den;
      if (equal) return { equal: true, reason: 'numeric' };
      if (anyPercent) {
        const hundred: Rational = { num: 100n, den: 1n };
        const scaled = context.percent[0] ? { num: exactA.num, den: exactA.den * hundred.num } : { num: exactB.num, den: exactB.den * hundred.num };
        const other = context.percent[0] ? exactB : exactA;
        if (rationalClose(scaled, other, tolerance)) return { equal: true, reason: 'numeric', detail: 'percent read as a fraction' };
      }
      return { equal: false, reason: 'numeric' };
    }
    const va = complexValue(a, new Map());
    const vb = complexValue(b, new Map());
    if (!va || !vb) return { equal: false, reason: 'undecided', detail: 'could not evaluate' };
    // A real value against one outside its function's domain (arcsin of 20/13, NaN): not equal.
    const undefinedA = Number.isNaN(va.re) || Number.isNaN(va.im);
    const undefinedB = Number.isNaN(vb.re) || Number.isNaN(vb.im);
    if (undefinedA !== undefinedB && (finite(va) || finite(vb))) return { equal: false, reason: 'numeric', detail: 'one side is undefined' };
    if (!finite(va) || !finite(vb)) {
      // Overflow (3^{2023}·√2) is not infinity: only a written ∞ may be compared as one.
      if (!containsInfinity(a) && !containsInfinity(b)) return { equal: false, reason: 'undecided', detail: 'value outside double range' };
      const bothInfinite = [va, vb].every((v) => !Number.isNaN(v.re) && !Number.isNaN(v.im));
      if (bothInfinite && Math.sign(va.re) === Math.sign(vb.re) && va.im === vb.im && !finite(va) && !finite(vb)) return { equal: true, reason: 'numeric' };
      if (bothInfinite && (finite(va) || finite(vb))) return { equal: false, reason: 'numeric' };
      return { equal: false, reason: 'undecided', detail: 'value outside double range' };
    }
    const factors = anyPercent ? PERCENT_FACTORS : [1];
    for (const factor of factors) {
      if (close(c(va.re * factor, va.im * factor), vb, tolerance, context.absoluteTolerance)) return { equal: true, reason: 'numeric' };
    }
    if (context.degrees[0] !== context.degrees[1]) {
      // 90° against π/2: convert the degree side to radians.
      const radians = Math.PI / 180;
      const [x, y] = context.degrees[0] ? [c(va.re * radians, va.im * radians), vb] : [va, c(vb.re * radians, vb.im * radians)];
      if (close(x, y, tolerance, context.absoluteTolerance)) return { equal: true, reason: 'numeric', detail: 'degrees read as radians' };
    }
    return { equal: false, reason: 'numeric' };
  }
  const random = seededRandom(104729);
  // Floors, factorials and binomials are about integers: sample integers, or real points miss the difference.
  const integers = usesIntegerFunctions(a) || usesIntegerFunctions(b);
  let valid = 0;
  for (let attempt = 0; attempt < (integers ? 16 : 10) && valid < (integers ? 10 : 5); attempt += 1) {
    checkTime(context);
    const bindings = new Map(names.map((name) => [name, integers ? 1 + Math.floor(40 * random()) : 0.3 + 2 * random()] as const));
    const va = complexValue(a, bindings);
    const vb = complexValue(b, bindings);
    if (!va || !vb) return { equal: false, reason: 'undecided', detail: 'could not evaluate' };
    if (!finite(va) || !finite(vb)) continue;
    if (!close(va, vb, Math.max(tolerance, 1e-8), context.absoluteTolerance)) return { equal: false, reason: 'symbolic' };
    valid += 1;
  }
  if (valid < 3) return { equal: false, reason: 'undecided', detail: 'too few points where both sides are defined' };
  return { equal: true, reason: 'symbolic' };
}

function usesIntegerFunctions(node: Node): boolean {
  if (node.type === 'func' && ['floor', 'ceil', 'factorial', 'binom'].includes(node.name)) return true;
  return children(node).some(usesIntegerFunctions);
}
