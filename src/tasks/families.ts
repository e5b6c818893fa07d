/**
 * Generated math task families with verifiable integer (or word) answers. In the families marked
 * `codeHelps` a one-line Python program gets the answer exactly while a small model answering "in
 * its head" mostly fails (multi-digit products, modular powers, ...); in the others a direct
 * answer is easy. Each family renders the problem, the answer, and the program a solver would write
 * together with what Python prints for it (computed here, in TypeScript, exactly as Python prints).
 */
import { Rng } from '../core/rng.js';

export interface GeneratedProblem {
  problem: string;
  answer: string;
  /** A correct program and its exact stdout (without the trailing newline). */
  code: string;
  output: string;
  /** Broken first attempts and the last traceback line Python prints for each. */
  mistakes: { code: string; error: string }[];
}

export interface TaskFamily {
  name: string;
  codeHelps: boolean;
  levels: number;
  /**
   * The numbers a program of this family may contain besides the problem's own: the programs
   * copy, they never compute. A number the program derives from the problem (n+1 for a range's end,
   * a bound from the level) would ask a character model to do arithmetic before it writes code.
   */
  programConstants: readonly string[];
  generate(rng: Rng, level: number): GeneratedProblem;
}

function digits(rng: Rng, count: number): number {
  return rng.int(10 ** (count - 1), 10 ** count - 1);
}

/** The three broken first attempts used across families: a typo, a missing import, an unclosed call. */
function typo(code: string, name: string, misspelt: string): { code: string; error: string } {
  return { code: code.replace(`${name}(`, `${misspelt}(`), error: `NameError: name '${misspelt}' is not defined` };
}
function attributeTypo(code: string, name: string, misspelt: string): { code: string; error: string } {
  return { code: code.replace(`math.${name}(`, `math.${misspelt}(`), error: `AttributeError: module 'math' has no attribute '${misspelt}'` };
}
function unclosed(code: string): { code: string; error: string } {
  return { code: code.slice(0, -1), error: "SyntaxError: '(' was never closed" };
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result % modulus;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

const multiply: TaskFamily = {
  name: 'multiply',
  codeHelps: true,
  levels: 3,
  programConstants: [],
  generate(rng, level) {
    const a = digits(rng, level + 1);
    const b = digits(rng, level + 1);
    const code = `print(${a}*${b})`;
    const answer = String(BigInt(a) * BigInt(b));
    return { problem: `What is ${a}*${b}?`, answer, code, output: answer, mistakes: [unclosed(code), typo(code, 'print', 'pirnt')] };
  },
};

const modularPower: TaskFamily = {
  name: 'modpow',
  codeHelps: true,
  levels: 3,
  programConstants: [],
  generate(rng, level) {
    const base = rng.int(2, level === 1 ? 9 : 99);
    const exponent = rng.int(10, [0, 99, 9999, 999999][level]!);
    const modulus = rng.int(7, [0, 50, 1000, 100000][level]!);
    const code = `print(pow(${base},${exponent},${modulus}))`;
    const answer = String(modPow(BigInt(base), BigInt(exponent), BigInt(modulus)));
    return { problem: `What is ${base}^${exponent} mod ${modulus}?`, answer, code, output: answer, mistakes: [typo(code, 'pow', 'pwo'), unclosed(code)] };
  },
};

const greatestCommonDivisor: TaskFamily = {
  name: 'gcd',
  codeHelps: true,
  levels: 3,
  programConstants: [],
  generate(rng, level) {
    const common = rng.int(2, [0, 30, 300, 3000][level]!);
    const a = common * rng.int(2, [0, 30, 300, 3000][level]!);
    const b = common * rng.int(2, [0, 30, 300, 3000][level]!);
    const code = `import math\nprint(math.gcd(${a},${b}))`;
    const answer = String(gcd(a, b));
    return {
      problem: `What is gcd(${a},${b})?`,
      answer,
      code,
      output: answer,
      mistakes: [{ code: `print(math.gcd(${a},${b}))`, error: "NameError: name 'math' is not defined" }, attributeTypo(code, 'gcd', 'gdc')],
    };
  },
};

const leastCommonMultiple: TaskFamily = {
  name: 'lcm',
  codeHelps: true,
  levels: 3,
  programConstants: [],
  generate(rng, level) {
    const a = rng.int(2, [0, 40, 400, 4000][level]!);
    const b = rng.int(2, [0, 40, 400, 4000][level]!);
    const code = `import math\nprint(math.lcm(${a},${b}))`;
    const answer = String((BigInt(a) * BigInt(b)) / BigInt(gcd(a, b)));
    return {
      problem: `What is lcm(${a},${b})?`,
      answer,
      code,
      output: answer,
      mistakes: [{ code: `print(math.lcm(${a},${b}))`, error: "NameError: name 'math' is not defined" }, attributeTypo(code, 'lcm', 'lmc')],
    };
  },
};

const countMultiples: TaskFamily = {
  name: 'count',
  codeHelps: true,
  levels: 3,
  programConstants: ['1', '0'],
  generate(rng, level) {
    const n = rng.int(20, [0, 99, 999, 99999][level]!);
    const p = rng.int(2, 9);
    let q = rng.int(2, 9);
    if (q === p) q = p === 9 ? 2 : p + 1;
    const both = rng.next() < 0.5;
    let count = 0;
    for (let k = 1; k <= n; k++) if (both ? k % p === 0 && k % q !== 0 : k % p === 0 || k % q === 0) count++;
    const condition = both ? `k%${p}==0 and k%${q}!=0` : `k%${p}==0 or k%${q}==0`;
    const code = `print(len([k for k in range(1,${n}+1) if ${condition}]))`;
    const problem = both
      ? `How many integers from 1 to ${n} are divisible by ${p} but not by ${q}?`
      : `How many integers from 1 to ${n} are divisible by ${p} or ${q}?`;
    return { problem, answer: String(count), code, output: String(count), mistakes: [typo(code, 'len', 'lenn'), unclosed(code)] };
  },
};

const sequenceSum: TaskFamily = {
  name: 'seqsum',
  codeHelps: true,
  levels: 3,
  programConstants: ['1'],
  generate(rng, level) {
    const n = rng.int(5, [0, 30, 300, 3000][level]!);
    if (rng.next() < 0.5) {
      const step = rng.int(2, 19);
      const limit = n * step + rng.int(1, step);
      let total = 0;
      for (let k = step; k < limit; k += step) total += k;
      const code = `print(sum(range(${step},${limit},${step})))`;
      return { problem: `What is the sum of the positive multiples of ${step} below ${limit}?`, answer: String(total), code, output: String(total), mistakes: [typo(code, 'sum', 'summ'), unclosed(code)] };
    }
    let total = 0n;
    for (let k = 1n; k <= BigInt(n); k++) total += k * k;
    const code = `print(sum(k*k for k in range(1,${n}+1)))`;
    return { problem: `What is the sum of k^2 for k from 1 to ${n}?`, answer: String(total), code, output: String(total), mistakes: [typo(code, 'sum', 'summ'), unclosed(code)] };
  },
};

function term(coefficient: number, variable: string, first: boolean): string {
  const sign = coefficient < 0 ? '-' : first ? '' : '+';
  const size = Math.abs(coefficient);
  return `${sign}${size === 1 ? '' : size}${variable}`;
}
function pyTerm(coefficient: number, variable: string, first: boolean): string {
  const sign = coefficient < 0 ? '-' : first ? '' : '+';
  const size = Math.abs(coefficient);
  return `${sign}${size === 1 ? '' : `${size}*`}${variable}`;
}

/**
 * The linear family's search box, -100..100 for x and y at every level: wider than any level's
 * solutions (|x|, |y| <= 90), and a constant, where a bound from the level is not in the problem.
 */
const SEARCH_BOUND = 100;

const linearSystem: TaskFamily = {
  name: 'linear',
  codeHelps: true,
  levels: 3,
  programConstants: [String(SEARCH_BOUND), String(SEARCH_BOUND + 1), '0'],
  generate(rng, level) {
    const range = [0, 9, 30, 90][level]!;
    const x = rng.int(-range, range);
    const y = rng.int(-range, range);
    let a1: number, b1: number, a2: number, b2: number;
    do {
      const size = level + 4;
      a1 = rng.int(-size, size) || 1;
      b1 = rng.int(-size, size) || 1;
      a2 = rng.int(-size, size) || 1;
      b2 = rng.int(-size, size) || 1;
    } while (a1 * b2 - a2 * b1 === 0);
    const c1 = a1 * x + b1 * y;
    const c2 = a2 * x + b2 * y;
    const equation = (a: number, b: number, c: number) => `${term(a, 'x', true)}${term(b, 'y', false)}=${c}`;
    const condition = (a: number, b: number, c: number) => `${pyTerm(a, 'x', true)}${pyTerm(b, 'y', false)}==${c}`;
    // [0]: the program prints the answer itself, so the boxed answer is a copy of its output.
    const code = `print([x for x in range(${-SEARCH_BOUND},${SEARCH_BOUND + 1}) for y in range(${-SEARCH_BOUND},${SEARCH_BOUND + 1}) if ${condition(a1, b1, c1)} and ${condition(a2, b2, c2)}][0])`;
    return {
      problem: `Solve ${equation(a1, b1, c1)}, ${equation(a2, b2, c2)}. What is x?`,
      answer: String(x),
      code,
      output: String(x),
      mistakes: [unclosed(code), typo(code, 'print', 'pirnt')],
    };
  },
};

const addDigits: TaskFamily = {
  name: 'add',
  codeHelps: false,
  levels: 3,
  programConstants: [],
  generate(rng) {
    const a = rng.int(0, 9);
    const b = rng.int(0, 9);
    const code = `print(${a}+${b})`;
    return { problem: `What is ${a}+${b}?`, answer: String(a + b), code, output: String(a + b), mistakes: [unclosed(code)] };
  },
};

const compare: TaskFamily = {
  name: 'compare',
  codeHelps: false,
  levels: 3,
  programConstants: [],
  generate(rng, level) {
    const a = digits(rng, level + 1);
    let b = digits(rng, level + 1);
    if (b === a) b = a + 1;
    const code = `print(max(${a},${b}))`;
    const answer = String(Math.max(a, b));
    return { problem: `Which is larger, ${a} or ${b}?`, answer, code, output: answer, mistakes: [typo(code, 'max', 'mx')] };
  },
};

const parity: TaskFamily = {
  name: 'parity',
  codeHelps: false,
  levels: 3,
  programConstants: ['2', '0'],
  generate(rng, level) {
    const n = digits(rng, level + 1);
    const answer = n % 2 === 0 ? 'even' : 'odd';
    const code = `print('even' if ${n}%2==0 else 'odd')`;
    return { problem: `Is ${n} even or odd?`, answer, code, output: answer, mistakes: [unclosed(code)] };
  },
};

export const TASK_FAMILIES: readonly TaskFamily[] = [
  multiply,
  modularPower,
  greatestCommonDivisor,
  leastCommonMultiple,
  countMultiples,
  sequenceSum,
  linearSystem,
  addDigits,
  compare,
  parity,
];
