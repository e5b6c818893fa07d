/**
 * A small LaTeX math parser for final answers: numbers, fractions, roots, powers, functions,
 * implicit products, tuples/intervals, sets, matrices, relations, unions and `\pm`.
 * It is a recursive-descent parser over a flat token list; it throws ParseFailure (internal)
 * and `parseLatex` turns that into a result, so callers never see an exception.
 */
import type { Bracket, Node, RelOp } from './ast.js';

type Token =
  | { kind: 'num'; text: string }
  | { kind: 'letter'; text: string }
  | { kind: 'cmd'; text: string }
  | { kind: 'op'; text: string };

class ParseFailure extends Error {}

const FUNCTIONS = new Set([
  'sin', 'cos', 'tan', 'sec', 'csc', 'cot', 'arcsin', 'arccos', 'arctan', 'arcsec', 'arccsc', 'arccot',
  'sinh', 'cosh', 'tanh', 'coth', 'sech', 'csch', 'ln', 'log', 'exp', 'lg', 'sgn', 'gcd', 'lcm', 'max', 'min',
  'det', 'deg', 'arg', 'asin', 'acos', 'atan',
]);
/** Word functions accepted without a backslash when followed by `(` (code-style answers). */
const BARE_FUNCTIONS = new Set([...FUNCTIONS, 'sqrt', 'abs', 'floor', 'ceil', 'binom', 'factorial']);

const GREEK = new Set([
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta', 'iota', 'kappa',
  'lambda', 'mu', 'nu', 'xi', 'rho', 'sigma', 'tau', 'upsilon', 'phi', 'varphi', 'chi', 'psi', 'omega',
  'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Sigma', 'Phi', 'Psi', 'Omega', 'Upsilon', 'ell', 'hbar',
]);

const RELATIONS: Record<string, RelOp> = {
  '=': '=', '\\eq': '=', '\\approx': '=', '\\equiv': '=', '\\ne': '!=', '\\neq': '!=', '<': '<', '>': '>',
  '\\lt': '<', '\\gt': '>', '\\le': '<=', '\\leq': '<=', '\\leqslant': '<=', '\\ge': '>=', '\\geq': '>=',
  '\\geqslant': '>=', '<=': '<=', '>=': '>=', '!=': '!=',
};

const IGNORED_COMMANDS = new Set(['\\unit', '\\quad', '\\qquad', '\\mathbf', '\\mathrm', '\\bm', '\\boldsymbol', '\\vec', '\\overline', '\\hat', '\\widehat', '\\tilde', '\\mathcal', '\\bar', '\\check', '\\mathfrak', '\\mathscr']);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    const number = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+(?![a-zA-Z]))?/.exec(text.slice(i, i + 400));
    if (number) {
      tokens.push({ kind: 'num', text: number[0] });
      i += number[0].length;
      continue;
    }
    if (ch === '\\') {
      const command = /^\\(?:[a-zA-Z]+|.)/.exec(text.slice(i, i + 40));
      const name = command ? command[0] : '\\';
      tokens.push({ kind: 'cmd', text: name });
      i += name.length;
      continue;
    }
    if (/[a-zA-Z]/.test(ch)) {
      const word = /^[a-zA-Z]+/.exec(text.slice(i, i + 40))?.[0] ?? ch;
      const next = text.slice(i + word.length).trimStart()[0];
      if (word.length > 1 && BARE_FUNCTIONS.has(word) && next === '(') {
        tokens.push({ kind: 'cmd', text: `\\${word}` });
        i += word.length;
        continue;
      }
      if (word === 'pi' || word === 'infty' || word === 'inf' || word === 'oo') {
        tokens.push({ kind: 'cmd', text: word === 'pi' ? '\\pi' : '\\infty' });
        i += word.length;
        continue;
      }
      // Digits written straight after a word's last letter index it (`x1`, `a2`, `odd1`): plain-text
      // for `x_1`, never a product, so `x1` is not `x` and `odd1` is not `odd`.
      const index = word.length === 1 ? /^\d+(?![.\d])/.exec(text.slice(i + 1, i + 41))?.[0] : undefined;
      tokens.push({ kind: 'letter', text: index === undefined ? ch : `${ch}_${index}` });
      i += 1 + (index?.length ?? 0);
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '!=' || two === '**') {
      tokens.push({ kind: 'op', text: two === '**' ? '^' : two });
      i += 2;
      continue;
    }
    tokens.push({ kind: 'op', text: ch });
    i += 1;
  }
  return tokens;
}

const MAX_DEPTH = 200;

class Parser {
  private position = 0;
  private depth = 0;
  private absDepth = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): Node {
    const node = this.parseList(new Set());
    if (this.position < this.tokens.length) {
      throw new ParseFailure(`unexpected ${JSON.stringify(this.peek()?.text)} at token ${this.position}`);
    }
    return node;
  }

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.position + offset];
  }

  private isOp(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token !== undefined && (token.kind === 'op' || token.kind === 'cmd') && token.text === text;
  }

  private expect(text: string): void {
    if (!this.isOp(text)) throw new ParseFailure(`expected ${text} at token ${this.position}, found ${JSON.stringify(this.peek()?.text ?? 'end')}`);
    this.position += 1;
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > MAX_DEPTH) throw new ParseFailure('expression nested too deeply');
  }

  /** Top level: `a, b, c` or `a; b` (several answers). */
  private parseList(closers: Set<string>): Node {
    const items = [this.parseRelation(closers)];
    while (this.isOp(',') || this.isOp(';')) {
      this.position += 1;
      if (this.atEnd(closers)) break;
      items.push(this.parseRelation(closers));
    }
    return items.length === 1 ? (items[0] as Node) : { type: 'list', items };
  }

  private atEnd(closers: Set<string>): boolean {
    const token = this.peek();
    return token === undefined || closers.has(token.text);
  }

  private parseRelation(closers: Set<string>): Node {
    const args = [this.parseUnion(closers)];
    const ops: RelOp[] = [];
    for (;;) {
      const token = this.peek();
      if (!token) break;
      let op = RELATIONS[token.text];
      if (token.text === '\\in') op = '=';
      if (!op || (token.kind !== 'op' && token.kind !== 'cmd')) break;
      this.position += 1;
      if (token.text === '<' && this.isOp('=')) {
        this.position += 1;
        op = '<=';
      } else if (token.text === '>' && this.isOp('=')) {
        this.position += 1;
        op = '>=';
      }
      ops.push(op);
      args.push(this.parseUnion(closers));
    }
    return ops.length === 0 ? (args[0] as Node) : { type: 'rel', ops, args };
  }

  private parseUnion(closers: Set<string>): Node {
    const items = [this.parseAdditive(closers)];
    while (this.isOp('\\cup') || this.isOp('U')) {
      this.position += 1;
      items.push(this.parseAdditive(closers));
    }
    return items.length === 1 ? (items[0] as Node) : { type: 'union', items };
  }

  private parseAdditive(closers: Set<string>): Node {
    this.enter();
    const terms: Node[] = [];
    let pm: Node | null = null;
    let first = true;
    for (;;) {
      const token = this.peek();
      if (first || (token && (token.text === '+' || token.text === '-' || token.text === '\\pm' || token.text === '\\mp'))) {
        let sign = '+';
        if (!first) {
          sign = token?.text ?? '+';
          this.position += 1;
        } else if (this.isOp('+') || this.isOp('-') || this.isOp('\\pm') || this.isOp('\\mp')) {
          sign = this.peek()?.text ?? '+';
          this.position += 1;
        }
        first = false;
        const term = this.parseMultiplicative(closers);
        if (sign === '-') terms.push({ type: 'neg', arg: term });
        else if (sign === '\\pm' || sign === '\\mp') {
          if (pm) throw new ParseFailure('more than one \\pm in one expression');
          pm = term;
        } else terms.push(term);
        continue;
      }
      break;
    }
    this.depth -= 1;
    const sum: Node | null = terms.length === 0 ? null : terms.length === 1 ? (terms[0] as Node) : { type: 'add', terms };
    if (pm) return { type: 'pm', left: sum, right: pm };
    if (!sum) throw new ParseFailure('empty expression');
    return sum;
  }

  private startsFactor(): boolean {
    const token = this.peek();
    if (!token) return false;
    if (token.kind === 'num' || token.kind === 'letter') return true;
    if (token.kind === 'cmd') {
      if (RELATIONS[token.text] || ['\\cdot', '\\times', '\\div', '\\pm', '\\mp', '\\cup', '\\in', '\\to', '\\rightarrow', '\\}', '\\rfloor', '\\rceil', '\\rangle', '\\end', '\\cr'].includes(token.text)) {
        return false;
      }
      if (token.text === '\\|') return this.absDepth === 0;
      return true;
    }
    if (token.text === '(' || token.text === '[' || token.text === '{') return true;
    if (token.text === '|') return this.absDepth === 0;
    return false;
  }

  private parseMultiplicative(closers: Set<string>): Node {
    let node = this.parseUnary(closers);
    for (;;) {
      const token = this.peek();
      if (!token || closers.has(token.text)) break;
      if (token.text === '*' || token.text === '\\cdot' || token.text === '\\times' || token.text === '\\ast') {
        this.position += 1;
        node = multiply(node, this.parseUnary(closers));
      } else if (token.text === '/' || token.text === '\\div' || token.text === '\\over') {
        this.position += 1;
        node = { type: 'div', num: node, den: this.parseUnary(closers) };
      } else if (this.startsFactor()) {
        const factor = this.parsePower(closers);
        const mixed = mixedNumber(node, factor);
        node = mixed ?? multiply(node, factor);
      } else break;
    }
    return node;
  }

  private parseUnary(closers: Set<string>): Node {
    if (this.isOp('-')) {
      this.position += 1;
      return { type: 'neg', arg: this.parseUnary(closers) };
    }
    if (this.isOp('+')) {
      this.position += 1;
      return this.parseUnary(closers);
    }
    return this.parsePower(closers);
  }

  private parsePower(closers: Set<string>): Node {
    this.enter();
    let base = this.parsePostfix(this.parseAtom(closers));
    if (this.isOp('^')) {
      this.position += 1;
      const exponent = this.parseScript(closers);
      base = this.parsePostfix({ type: 'pow', base, exp: exponent });
    }
    this.depth -= 1;
    return base;
  }

  /** The argument of `^` or `_`: a braced group, or one token (with a sign). */
  private parseScript(closers: Set<string>): Node {
    if (this.isOp('{')) return this.parseGroup();
    if (this.isOp('-')) {
      this.position += 1;
      return { type: 'neg', arg: this.parseScript(closers) };
    }
    const token = this.peek();
    if (token?.kind === 'num' && /^\d+$/.test(token.text) === false) {
      this.position += 1;
      return { type: 'num', text: token.text };
    }
    if (token?.kind === 'num') {
      // `x^23` in LaTeX means x^2 * 3; answers written as plain text mean x^23. Follow the writer's
      // evident intent: keep the whole number (no one writes x^2 3 for 3x^2 in a final answer).
      this.position += 1;
      return { type: 'num', text: token.text };
    }
    return this.parseAtom(closers);
  }

  private parsePostfix(node: Node): Node {
    let result = node;
    for (;;) {
      if (this.isOp('!')) {
        this.position += 1;
        result = { type: 'func', name: 'factorial', args: [result] };
      } else if (this.isOp("'")) {
        this.position += 1;
      } else break;
    }
    return result;
  }

  private parseGroup(): Node {
    this.expect('{');
    if (this.isOp('}')) {
      this.position += 1;
      throw new ParseFailure('empty group {}');
    }
    const node = this.parseList(new Set(['}']));
    this.expect('}');
    return node;
  }

  private parseBracketed(open: Bracket): Node {
    this.position += 1;
    const closers = new Set([')', ']', '\\}']);
    const items: Node[] = [];
    if (!this.isOp(')') && !this.isOp(']')) {
      items.push(this.parseRelation(closers));
      while (this.isOp(',') || this.isOp(';')) {
        this.position += 1;
        items.push(this.parseRelation(closers));
      }
    }
    const close = this.peek()?.text;
    if (close !== ')' && close !== ']') throw new ParseFailure(`unclosed ${open}`);
    this.position += 1;
    if (items.length === 1 && ((open === '(' && close === ')') || (open === '[' && close === ']'))) return items[0] as Node;
    return { type: 'seq', open, close, items };
  }

  private parseAtom(closers: Set<string>): Node {
    const token = this.peek();
    if (!token) throw new ParseFailure('unexpected end of input');
    if (closers.has(token.text) && token.text !== '|') throw new ParseFailure(`unexpected ${token.text}`);
    if (token.kind === 'num') {
      this.position += 1;
      return { type: 'num', text: token.text };
    }
    if (token.kind === 'letter') {
      this.position += 1;
      return this.withSubscript(token.text);
    }
    if (token.text === '{') return this.parseGroup();
    if (token.text === '(' || token.text === '[') return this.parseBracketed(token.text);
    if (token.text === '|' || token.text === '\\|' || token.text === '\\vert' || token.text === '\\lvert') {
      this.position += 1;
      this.absDepth += 1;
      const inner = this.parseAdditive(new Set(['|', '\\|', '\\vert', '\\rvert']));
      this.absDepth -= 1;
      const close = this.peek()?.text;
      if (close !== '|' && close !== '\\|' && close !== '\\vert' && close !== '\\rvert') throw new ParseFailure('unclosed |');
      this.position += 1;
      return { type: 'func', name: 'abs', args: [inner] };
    }
    if (token.kind === 'cmd') return this.parseCommand(token.text, closers);
    throw new ParseFailure(`unexpected ${JSON.stringify(token.text)}`);
  }

  private withSubscript(name: string): Node {
    if (!this.isOp('_')) return { type: 'sym', name };
    this.position += 1;
    let subscript: string;
    if (this.isOp('{')) {
      const start = this.position;
      let level = 0;
      do {
        const t = this.peek();
        if (!t) throw new ParseFailure('unclosed subscript');
        if (t.text === '{') level += 1;
        if (t.text === '}') level -= 1;
        this.position += 1;
      } while (level > 0);
      subscript = this.tokens.slice(start + 1, this.position - 1).map((t) => t.text).join('');
    } else {
      const t = this.peek();
      if (!t) throw new ParseFailure('missing subscript');
      this.position += 1;
      subscript = t.text;
    }
    return { type: 'sym', name: `${name}_${subscript}` };
  }

  private parseCommand(name: string, closers: Set<string>): Node {
    this.position += 1;
    const bare = name.slice(1);
    switch (name) {
      case '\\frac':
      case '\\dfrac':
      case '\\tfrac':
      case '\\cfrac': {
        const num = this.parseGroupOrToken();
        const den = this.parseGroupOrToken();
        return { type: 'div', num, den };
      }
      case '\\binom':
      case '\\dbinom':
      case '\\tbinom':
        return { type: 'func', name: 'binom', args: [this.parseGroupOrToken(), this.parseGroupOrToken()] };
      case '\\sqrt': {
        if (this.isOp('[')) {
          this.position += 1;
          const index = this.parseAdditive(new Set([']']));
          this.expect(']');
          return { type: 'func', name: 'root', args: [this.parseGroupOrToken(), index] };
        }
        return { type: 'func', name: 'sqrt', args: [this.parseGroupOrToken()] };
      }
      case '\\pi':
      case '\\varpi':
        return { type: 'const', name: 'pi' };
      case '\\infty':
      case '\\infin':
      case '\\infinity':
        return { type: 'const', name: 'inf' };
      case '\\imath':
        return { type: 'const', name: 'i' };
      case '\\emptyset':
      case '\\varnothing':
        return { type: 'set', items: [] };
      case '\\{': {
        const items: Node[] = [];
        if (!this.isOp('\\}')) {
          items.push(this.parseRelation(new Set(['\\}'])));
          while (this.isOp(',') || this.isOp(';')) {
            this.position += 1;
            items.push(this.parseRelation(new Set(['\\}'])));
          }
        }
        this.expect('\\}');
        return { type: 'set', items };
      }
      case '\\langle': {
        const items = [this.parseRelation(new Set(['\\rangle']))];
        while (this.isOp(',')) {
          this.position += 1;
          items.push(this.parseRelation(new Set(['\\rangle'])));
        }
        this.expect('\\rangle');
        return items.length === 1 ? (items[0] as Node) : { type: 'seq', open: '(', close: ')', items };
      }
      case '\\lfloor':
      case '\\lceil': {
        const closer = name === '\\lfloor' ? '\\rfloor' : '\\rceil';
        const inner = this.parseAdditive(new Set([closer]));
        this.expect(closer);
        return { type: 'func', name: name === '\\lfloor' ? 'floor' : 'ceil', args: [inner] };
      }
      case '\\begin':
        return this.parseEnvironment();
      case '\\mathbbR':
        return { type: 'seq', open: '(', close: ')', items: [{ type: 'neg', arg: { type: 'const', name: 'inf' } }, { type: 'const', name: 'inf' }] };
      default:
        break;
    }
    if (name === '\\dot' || name === '\\ddot') {
      // Time derivatives are distinct quantities: \dot{x} is a symbol of its own, not x.
      const inner = this.parseGroupOrToken();
      return inner.type === 'sym' ? this.withSubscript(`${bare}(${inner.name})`) : { type: 'func', name: bare, args: [inner] };
    }
    if (name === '\\angle' || name === '\\measuredangle') return this.parseAtom(closers);
    if (IGNORED_COMMANDS.has(name)) {
      if (this.isOp('{')) return this.parseGroup();
      return this.parseAtom(closers);
    }
    if (FUNCTIONS.has(bare) || BARE_FUNCTIONS.has(bare)) return this.parseFunction(bare, closers);
    if (GREEK.has(bare)) return this.withSubscript(bare);
    if (/^\\mathbb[A-Z]$/.test(name)) return { type: 'sym', name: name.slice(1) };
    throw new ParseFailure(`unknown command ${name}`);
  }

  private parseGroupOrToken(): Node {
    if (this.isOp('{')) return this.parseGroup();
    const token = this.peek();
    if (!token) throw new ParseFailure('missing argument');
    if (token.kind === 'num') {
      // `\frac12` was braced by the normaliser; a lone multi-digit token here is one argument.
      this.position += 1;
      return { type: 'num', text: token.text };
    }
    return this.parseAtom(new Set());
  }

  private parseFunction(name: string, closers: Set<string>): Node {
    let power: Node | null = null;
    let base: Node | null = null;
    // `\log_2 x`, `\sin^2 x`, `\sin^{-1} x` (inverse).
    for (let k = 0; k < 2; k += 1) {
      if (this.isOp('_')) {
        this.position += 1;
        base = this.parseScript(closers);
      } else if (this.isOp('^')) {
        this.position += 1;
        power = this.parseScript(closers);
      }
    }
    let argument: Node;
    if (this.isOp('(')) {
      this.position += 1;
      const inner = this.parseList(new Set([')']));
      this.expect(')');
      argument = inner;
    } else if (this.isOp('{')) {
      argument = this.parseGroup();
    } else {
      // `\sin 2x`: the argument is an implicit product that stops at the next function.
      argument = this.parsePower(closers);
      while (this.startsFactor() && !this.nextIsFunction()) argument = multiply(argument, this.parsePower(closers));
    }
    let args = argument.type === 'list' ? argument.items : [argument];
    let fname = name;
    if (power && power.type === 'neg' && power.arg.type === 'num' && power.arg.text === '1' && /^(sin|cos|tan|sec|csc|cot)$/.test(name)) {
      fname = `arc${name}`;
      power = null;
    }
    if (base && (fname === 'log')) args = [...args, base];
    let node: Node = { type: 'func', name: normalizeFunctionName(fname), args };
    if (power) node = { type: 'pow', base: node, exp: power };
    return node;
  }

  private nextIsFunction(): boolean {
    const token = this.peek();
    return token?.kind === 'cmd' && (FUNCTIONS.has(token.text.slice(1)) || token.text === '\\sqrt' || token.text === '\\frac');
  }

  private parseEnvironment(): Node {
    this.expect('{');
    let environment = '';
    while (this.peek() && !this.isOp('}')) {
      environment += this.peek()?.text ?? '';
      this.position += 1;
    }
    this.expect('}');
    if (environment === 'array' && this.isOp('{')) {
      // Column spec `{cc}`: skip it.
      let level = 0;
      do {
        const t = this.peek();
        if (!t) throw new ParseFailure('unclosed array spec');
        if (t.text === '{') level += 1;
        if (t.text === '}') level -= 1;
        this.position += 1;
      } while (level > 0);
    }
    const rows: Node[][] = [[]];
    const stops = new Set(['&', '\\cr', '\\end']);
    for (;;) {
      if (this.isOp('\\end')) break;
      if (!this.peek()) throw new ParseFailure(`unclosed environment ${environment}`);
      const row = rows[rows.length - 1] as Node[];
      row.push(this.parseRelation(stops));
      if (this.isOp('&')) this.position += 1;
      else if (this.isOp('\\cr')) {
        this.position += 1;
        if (!this.isOp('\\end')) rows.push([]);
      }
    }
    this.expect('\\end');
    this.expect('{');
    while (this.peek() && !this.isOp('}')) this.position += 1;
    this.expect('}');
    if (environment === 'cases' || environment === 'aligned' || environment === 'align*' || environment === 'align') {
      return { type: 'list', items: rows.map((row) => (row[0] as Node)).filter((n) => n !== undefined) };
    }
    return { type: 'matrix', rows };
  }
}

function normalizeFunctionName(name: string): string {
  const aliases: Record<string, string> = { asin: 'arcsin', acos: 'arccos', atan: 'arctan', lg: 'log10' };
  return aliases[name] ?? name;
}

const isInteger = (node: Node): boolean => node.type === 'num' && /^\d+$/.test(node.text);

/** `1\frac{4}{5}` is the mixed number 1 + 4/5, not a product (MATH's convention). */
function mixedNumber(whole: Node, fraction: Node): Node | null {
  if (fraction.type !== 'div' || !isInteger(fraction.num) || !isInteger(fraction.den)) return null;
  if (isInteger(whole)) return { type: 'add', terms: [whole, fraction] };
  if (whole.type === 'neg' && isInteger(whole.arg)) return { type: 'neg', arg: { type: 'add', terms: [whole.arg, fraction] } };
  return null;
}

function multiply(left: Node, right: Node): Node {
  if (left.type === 'mul') return { type: 'mul', factors: [...left.factors, right] };
  return { type: 'mul', factors: [left, right] };
}

export type ParseResult = { ok: true; node: Node } | { ok: false; error: string };

/** Parses a normalised answer; never throws. */
export function parseLatex(text: string): ParseResult {
  try {
    const tokens = tokenize(text);
    if (tokens.length === 0) return { ok: false, error: 'empty answer' };
    return { ok: true, node: new Parser(tokens).parseAll() };
  } catch (error) {
    if (error instanceof ParseFailure) return { ok: false, error: error.message };
    if (error instanceof RangeError) return { ok: false, error: 'expression too deep' };
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Maps letters that name constants (`e`, `i`) to constants after parsing. */
export function bindConstants(node: Node): Node {
  switch (node.type) {
    case 'sym':
      if (node.name === 'e') return { type: 'const', name: 'e' };
      if (node.name === 'i') return { type: 'const', name: 'i' };
      return node;
    case 'num':
    case 'const':
    case 'text':
      return node;
    case 'add':
      return { type: 'add', terms: node.terms.map(bindConstants) };
    case 'mul':
      return { type: 'mul', factors: node.factors.map(bindConstants) };
    case 'neg':
      return { type: 'neg', arg: bindConstants(node.arg) };
    case 'div':
      return { type: 'div', num: bindConstants(node.num), den: bindConstants(node.den) };
    case 'pow':
      return { type: 'pow', base: bindConstants(node.base), exp: bindConstants(node.exp) };
    case 'func':
      return { type: 'func', name: node.name, args: node.args.map(bindConstants) };
    case 'pm':
      return { type: 'pm', left: node.left ? bindConstants(node.left) : null, right: bindConstants(node.right) };
    case 'seq':
      return { ...node, items: node.items.map(bindConstants) };
    case 'set':
    case 'list':
    case 'union':
      return { ...node, items: node.items.map(bindConstants) } as Node;
    case 'matrix':
      return { type: 'matrix', rows: node.rows.map((row) => row.map(bindConstants)) };
    case 'rel':
      return { type: 'rel', ops: node.ops, args: node.args.map(bindConstants) };
  }
}
