/**
 * Optional slow path: when the fast path cannot decide (values beyond double range, a timeout,
 * too few evaluation points), the two parsed trees are written as sympy expressions and
 * `simplify(a - b) == 0` is asked through a CodeExecutor (the project's sandbox). Off by
 * default, asynchronous, with its own timeout. The trees are sent as code built from our own
 * parse, never as raw LaTeX, so nothing the model wrote is executed as Python.
 */
import type { CodeExecutor } from '../core/execution.js';
import type { Node } from './ast.js';
import { isEquivalent, type EquivalenceOptions, type Verdict } from './equivalence.js';
import { bindConstants, parseLatex } from './latex-parser.js';
import { normalizeAnswer } from './normalize.js';

export interface SympyOptions extends EquivalenceOptions {
  /** Wall-clock limit for the sympy call (default 5000 ms, symeval's per-comparison limit). */
  sympyTimeoutMs?: number;
  /** Ask sympy even when the fast path decided "not equal" (default false: only undecided cases). */
  always?: boolean;
}

const UNDECIDED = new Set(['undecided', 'timeout', 'parse-error']);

const FUNCTION_NAMES: Record<string, string> = {
  sqrt: 'sqrt', sin: 'sin', cos: 'cos', tan: 'tan', sec: 'sec', csc: 'csc', cot: 'cot', arcsin: 'asin',
  arccos: 'acos', arctan: 'atan', arccot: 'acot', arcsec: 'asec', arccsc: 'acsc', sinh: 'sinh', cosh: 'cosh',
  tanh: 'tanh', exp: 'exp', ln: 'log', abs: 'Abs', floor: 'floor', ceil: 'ceiling', factorial: 'factorial',
  binom: 'binomial', sgn: 'sign', max: 'Max', min: 'Min', gcd: 'gcd', lcm: 'lcm',
};

/** Python source for a scalar tree; null for structures sympy would need more context for. */
export function toSympy(node: Node): string | null {
  const all = (nodes: Node[]): string[] | null => {
    const parts = nodes.map(toSympy);
    return parts.every((p) => p !== null) ? (parts as string[]) : null;
  };
  switch (node.type) {
    case 'num':
      return /^[\d.eE+-]+$/.test(node.text) ? `Rational('${node.text}')` : null;
    case 'sym':
      return /^[A-Za-z][\w{}]*$/.test(node.name) ? `Symbol(${JSON.stringify(node.name)}, positive=True)` : null;
    case 'const':
      return { pi: 'pi', e: 'E', i: 'I', inf: 'oo' }[node.name];
    case 'add': {
      const parts = all(node.terms);
      return parts ? `(${parts.join(' + ')})` : null;
    }
    case 'mul': {
      const parts = all(node.factors);
      return parts ? `(${parts.join(' * ')})` : null;
    }
    case 'neg': {
      const inner = toSympy(node.arg);
      return inner ? `(-${inner})` : null;
    }
    case 'div': {
      const parts = all([node.num, node.den]);
      return parts ? `(${parts[0] ?? ''} / ${parts[1] ?? ''})` : null;
    }
    case 'pow': {
      const parts = all([node.base, node.exp]);
      return parts ? `(${parts[0] ?? ''} ** ${parts[1] ?? ''})` : null;
    }
    case 'func': {
      const parts = all(node.args);
      if (!parts) return null;
      if (node.name === 'root') return `root(${parts[0] ?? ''}, ${parts[1] ?? ''})`;
      if (node.name === 'log') return parts.length > 1 ? `log(${parts[0] ?? ''}, ${parts[1] ?? ''})` : `log(${parts[0] ?? ''})`;
      if (node.name === 'log10') return `log(${parts[0] ?? ''}, 10)`;
      const name = FUNCTION_NAMES[node.name];
      return name ? `${name}(${parts.join(', ')})` : null;
    }
    default:
      return null;
  }
}

function treeOf(answer: string): Node | null {
  const parsed = parseLatex(normalizeAnswer(answer).text);
  return parsed.ok ? bindConstants(parsed.node) : null;
}

/** Fast path first; sympy only for what it left undecided (or always, on request). */
export async function isEquivalentWithSympy(
  gold: string,
  predicted: string,
  executor: CodeExecutor,
  options: SympyOptions = {},
): Promise<Verdict> {
  const fast = isEquivalent(gold, predicted, options);
  if (fast.correct || (!UNDECIDED.has(fast.reason) && !options.always)) return fast;
  const goldTree = treeOf(gold);
  const predTree = treeOf(predicted);
  const a = goldTree ? toSympy(goldTree) : null;
  const b = predTree ? toSympy(predTree) : null;
  if (!a || !b) return { ...fast, detail: `${fast.detail ?? fast.reason}; sympy slow path: not a scalar expression` };
  const code = [
    'from sympy import *',
    `a = ${a}`,
    `b = ${b}`,
    'd = simplify(a - b)',
    // A non-zero symbolic difference counts as unequal (symeval's rule); a number sympy cannot sign stays unknown.
    "print('CIR_SYMPY', 'equal' if d == 0 else ('unequal' if d.is_zero is False or not d.is_number else 'unknown'))",
  ].join('\n');
  const timeoutMs = options.sympyTimeoutMs ?? 5000;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timeout');
    }, timeoutMs + 500);
  });
  try {
    const outcome = await Promise.race([executor.execute(code, { timeoutMs, signal: controller.signal }), timeout]);
    if (outcome === 'timeout' || outcome.kind === 'timeout') return { correct: false, reason: 'timeout', detail: `sympy slow path over ${timeoutMs} ms` };
    if (outcome.kind !== 'ok') {
      const why = outcome.kind === 'error' ? outcome.lastLine : outcome.kind;
      return { ...fast, detail: `${fast.detail ?? fast.reason}; sympy slow path failed: ${why}` };
    }
    const answer = /CIR_SYMPY (\w+)/.exec(outcome.stdout)?.[1];
    if (answer === 'equal') return { correct: true, reason: 'sympy' };
    if (answer === 'unequal') return { correct: false, reason: 'sympy' };
    return { ...fast, detail: `${fast.detail ?? fast.reason}; sympy could not decide` };
  } catch (error) {
    return { ...fast, detail: `sympy slow path failed: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    clearTimeout(timer);
  }
}
