/**
 * Two evaluators over the expression tree:
 * - `exactValue`: BigInt rationals for trees made only of numbers, + - * /, integer powers,
 *   perfect roots, factorials and binomials. Exact, so `025` = `25` and 1/2004! ≠ 1/2006! are
 *   decided without rounding.
 * - `complexValue`: double-precision complex numbers for everything else (roots, trig, logs,
 *   pi, e, i, variables substituted by the caller).
 * Both return null when the tree has no value of their kind; neither throws.
 */
import type { Node } from './ast.js';

export interface Rational {
  num: bigint;
  den: bigint;
}

/** Keeps exact results small enough to stay fast (bits of a numerator or denominator). */
const MAX_BITS = 20_000;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function rational(num: bigint, den: bigint): Rational | null {
  if (den === 0n) return null;
  const sign = den < 0n ? -1n : 1n;
  const divisor = gcd(num, den) || 1n;
  const result = { num: (sign * num) / divisor, den: (sign * den) / divisor };
  if (bitLength(result.num) > MAX_BITS || bitLength(result.den) > MAX_BITS) return null;
  return result;
}

function bitLength(value: bigint): number {
  return (value < 0n ? -value : value).toString(16).length * 4;
}

export function parseDecimal(text: string): Rational | null {
  const match = /^(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(text);
  if (!match) return null;
  const whole = match[1] ?? '';
  const fraction = match[2] ?? '';
  const exponent = Number(match[3] ?? '0');
  if (Math.abs(exponent) > 4000) return null;
  let num = BigInt((whole + fraction).replace(/^0+(?=\d)/, '') || '0');
  let den = 10n ** BigInt(fraction.length);
  if (exponent > 0) num *= 10n ** BigInt(exponent);
  if (exponent < 0) den *= 10n ** BigInt(-exponent);
  return rational(num, den);
}

function integerRoot(value: bigint, degree: bigint): bigint | null {
  if (value < 0n) return null;
  if (value < 2n) return value;
  const approx = BigInt(Math.round(Math.pow(Number(value), 1 / Number(degree))));
  for (const candidate of [approx - 1n, approx, approx + 1n]) {
    if (candidate >= 0n && candidate ** degree === value) return candidate;
  }
  return null;
}

function factorial(n: bigint): bigint | null {
  if (n < 0n || n > 3000n) return null;
  let result = 1n;
  for (let k = 2n; k <= n; k += 1n) result *= k;
  return result;
}

export function exactValue(node: Node): Rational | null {
  switch (node.type) {
    case 'num':
      return parseDecimal(node.text);
    case 'neg': {
      const v = exactValue(node.arg);
      return v ? { num: -v.num, den: v.den } : null;
    }
    case 'add': {
      let sum: Rational | null = { num: 0n, den: 1n };
      for (const term of node.terms) {
        const v = exactValue(term);
        if (!v || !sum) return null;
        sum = rational(sum.num * v.den + v.num * sum.den, sum.den * v.den);
      }
      return sum;
    }
    case 'mul': {
      let product: Rational | null = { num: 1n, den: 1n };
      for (const factor of node.factors) {
        const v = exactValue(factor);
        if (!v || !product) return null;
        product = rational(product.num * v.num, product.den * v.den);
      }
      return product;
    }
    case 'div': {
      const a = exactValue(node.num);
      const b = exactValue(node.den);
      if (!a || !b || b.num === 0n) return null;
      return rational(a.num * b.den, a.den * b.num);
    }
    case 'pow': {
      const base = exactValue(node.base);
      const exponent = exactValue(node.exp);
      if (!base || !exponent) return null;
      if (exponent.den === 1n) {
        const e = exponent.num;
        const magnitude = e < 0n ? -e : e;
        const bits = Math.max(bitLength(base.num), bitLength(base.den)) * Number(magnitude);
        if (bits > MAX_BITS) return null;
        if (e < 0n && base.num === 0n) return null;
        return e >= 0n ? rational(base.num ** magnitude, base.den ** magnitude) : rational(base.den ** magnitude, base.num ** magnitude);
      }
      // Rational exponent p/q: exact only when the q-th root is exact.
      if (exponent.den > 12n || base.num < 0n) return null;
      const rootNum = integerRoot(base.num, exponent.den);
      const rootDen = integerRoot(base.den, exponent.den);
      if (rootNum === null || rootDen === null) return null;
      return exactValue({ type: 'pow', base: { type: 'div', num: { type: 'num', text: rootNum.toString() }, den: { type: 'num', text: rootDen.toString() } }, exp: { type: 'num', text: exponent.num.toString() } });
    }
    case 'func': {
      const args = node.args.map(exactValue);
      const first = args[0];
      if (!first || args.some((a) => a === null)) return null;
      if (node.name === 'sqrt' || node.name === 'root') {
        const degree = node.name === 'sqrt' ? { num: 2n, den: 1n } : args[1];
        if (!degree || degree.den !== 1n || degree.num < 2n || degree.num > 12n) return null;
        const rn = integerRoot(first.num, degree.num);
        const rd = integerRoot(first.den, degree.num);
        return rn !== null && rd !== null ? rational(rn, rd) : null;
      }
      if (node.name === 'factorial' && first.den === 1n) {
        const f = factorial(first.num);
        return f === null ? null : rational(f, 1n);
      }
      if (node.name === 'binom' && first.den === 1n && args[1]?.den === 1n) {
        const n = first.num;
        const k = args[1].num;
        if (k < 0n || n < 0n || k > n || n > 3000n) return k > n && n >= 0n ? { num: 0n, den: 1n } : null;
        let result = 1n;
        for (let j = 0n; j < k; j += 1n) result = (result * (n - j)) / (j + 1n);
        return rational(result, 1n);
      }
      if (node.name === 'abs') return { num: first.num < 0n ? -first.num : first.num, den: first.den };
      if (node.name === 'floor' || node.name === 'ceil') {
        let q = first.num / first.den;
        if (node.name === 'floor' && first.num < 0n && q * first.den !== first.num) q -= 1n;
        if (node.name === 'ceil' && first.num > 0n && q * first.den !== first.num) q += 1n;
        return { num: q, den: 1n };
      }
      return null;
    }
    default:
      return null;
  }
}

export interface Complex {
  re: number;
  im: number;
}

const I: Complex = { re: 0, im: 1 };

function c(re: number, im = 0): Complex {
  return { re, im };
}

function cmul(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return c(a.re * b.re);
  return c(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}

function cdiv(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return c(a.re / b.re);
  const d = b.re * b.re + b.im * b.im;
  return c((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}

function clog(a: Complex): Complex {
  if (a.im === 0 && a.re > 0) return c(Math.log(a.re));
  return c(Math.log(Math.hypot(a.re, a.im)), Math.atan2(a.im, a.re));
}

function cexp(a: Complex): Complex {
  const m = Math.exp(a.re);
  if (a.im === 0) return c(m);
  return c(m * Math.cos(a.im), m * Math.sin(a.im));
}

function cpow(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) {
    if (a.re >= 0 || Number.isInteger(b.re)) return c(Math.pow(a.re, b.re));
    // Odd roots of negatives: the real root is what a math answer means by (-8)^{1/3}.
    const inverse = 1 / b.re;
    if (Number.isInteger(Math.round(inverse)) && Math.abs(inverse - Math.round(inverse)) < 1e-12 && Math.round(inverse) % 2 !== 0) {
      return c(-Math.pow(-a.re, b.re));
    }
  }
  if (a.re === 0 && a.im === 0) return b.re > 0 ? c(0) : c(NaN);
  if (b.im === 0 && Number.isInteger(b.re) && Math.abs(b.re) <= 64) {
    let result = c(1);
    for (let k = 0; k < Math.abs(b.re); k += 1) result = cmul(result, a);
    return b.re < 0 ? cdiv(c(1), result) : result;
  }
  return cexp(cmul(b, clog(a)));
}

function csqrt(a: Complex): Complex {
  if (a.im === 0 && a.re >= 0) return c(Math.sqrt(a.re));
  const r = Math.hypot(a.re, a.im);
  const re = Math.sqrt((r + a.re) / 2);
  const im = Math.sign(a.im || 1) * Math.sqrt((r - a.re) / 2);
  return c(re, im);
}

function csin(a: Complex): Complex {
  return c(Math.sin(a.re) * Math.cosh(a.im), Math.cos(a.re) * Math.sinh(a.im));
}

function ccos(a: Complex): Complex {
  return c(Math.cos(a.re) * Math.cosh(a.im), -Math.sin(a.re) * Math.sinh(a.im));
}

function gamma(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  const g = 7;
  const p = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const z = x - 1;
  let a = p[0] as number;
  const t = z + g + 0.5;
  for (let k = 1; k < g + 2; k += 1) a += (p[k] as number) / (z + k);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, z + 0.5) * Math.exp(-t) * a;
}

function realOnly(a: Complex, f: (x: number) => number): Complex {
  return Math.abs(a.im) > 1e-12 * Math.max(1, Math.abs(a.re)) ? c(NaN) : c(f(a.re));
}

function applyFunction(name: string, args: Complex[]): Complex {
  const a = args[0] ?? c(NaN);
  switch (name) {
    case 'sqrt':
      return csqrt(a);
    case 'root':
      return cpow(a, cdiv(c(1), args[1] ?? c(NaN)));
    case 'sin':
      return csin(a);
    case 'cos':
      return ccos(a);
    case 'tan':
      return cdiv(csin(a), ccos(a));
    case 'sec':
      return cdiv(c(1), ccos(a));
    case 'csc':
      return cdiv(c(1), csin(a));
    case 'cot':
      return cdiv(ccos(a), csin(a));
    case 'arcsin':
      return realOnly(a, Math.asin);
    case 'arccos':
      return realOnly(a, Math.acos);
    case 'arctan':
      return realOnly(a, Math.atan);
    case 'arccot':
      return realOnly(a, (x) => Math.atan(1 / x));
    case 'arcsec':
      return realOnly(a, (x) => Math.acos(1 / x));
    case 'arccsc':
      return realOnly(a, (x) => Math.asin(1 / x));
    case 'sinh':
      return realOnly(a, Math.sinh);
    case 'cosh':
      return realOnly(a, Math.cosh);
    case 'tanh':
      return realOnly(a, Math.tanh);
    case 'exp':
      return cexp(a);
    case 'ln':
      return clog(a);
    case 'log':
      // `\log_b x` carries the base as a second argument; plain `\log` is natural, as sympy reads it.
      return args.length > 1 ? cdiv(clog(a), clog(args[1] ?? c(NaN))) : clog(a);
    case 'log10':
      return cdiv(clog(a), c(Math.LN10));
    case 'abs':
      return c(Math.hypot(a.re, a.im));
    case 'floor':
      return realOnly(a, Math.floor);
    case 'ceil':
      return realOnly(a, Math.ceil);
    case 'sgn':
      return realOnly(a, Math.sign);
    case 'factorial':
      return realOnly(a, (x) => (x < 0 && Number.isInteger(x) ? NaN : gamma(x + 1)));
    case 'binom': {
      const b = args[1] ?? c(NaN);
      if (a.im !== 0 || b.im !== 0) return c(NaN);
      return c(gamma(a.re + 1) / (gamma(b.re + 1) * gamma(a.re - b.re + 1)));
    }
    case 'max':
    case 'min': {
      if (args.some((x) => x.im !== 0)) return c(NaN);
      const values = args.map((x) => x.re);
      return c(name === 'max' ? Math.max(...values) : Math.min(...values));
    }
    default:
      return c(NaN);
  }
}

/** Evaluates a scalar tree with the given variable values; null when it is not a scalar. */
export function complexValue(node: Node, bindings: ReadonlyMap<string, number>): Complex | null {
  switch (node.type) {
    case 'num': {
      const value = Number(node.text);
      return Number.isNaN(value) ? null : c(value);
    }
    case 'sym': {
      const value = bindings.get(node.name);
      return value === undefined ? null : c(value);
    }
    case 'const':
      return node.name === 'pi' ? c(Math.PI) : node.name === 'e' ? c(Math.E) : node.name === 'i' ? I : c(Infinity);
    case 'neg': {
      const v = complexValue(node.arg, bindings);
      return v ? c(-v.re, v.im === 0 ? 0 : -v.im) : null;
    }
    case 'add': {
      let re = 0;
      let im = 0;
      for (const term of node.terms) {
        const v = complexValue(term, bindings);
        if (!v) return null;
        re += v.re;
        im += v.im;
      }
      return c(re, im);
    }
    case 'mul': {
      let product = c(1);
      for (const factor of node.factors) {
        const v = complexValue(factor, bindings);
        if (!v) return null;
        product = cmul(product, v);
      }
      return product;
    }
    case 'div': {
      const a = complexValue(node.num, bindings);
      const b = complexValue(node.den, bindings);
      return a && b ? cdiv(a, b) : null;
    }
    case 'pow': {
      const a = complexValue(node.base, bindings);
      const b = complexValue(node.exp, bindings);
      return a && b ? cpow(a, b) : null;
    }
    case 'func': {
      const args: Complex[] = [];
      for (const arg of node.args) {
        const v = complexValue(arg, bindings);
        if (!v) return null;
        args.push(v);
      }
      return applyFunction(node.name, args);
    }
    default:
      return null;
  }
}
