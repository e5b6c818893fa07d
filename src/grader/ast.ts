/** The expression tree the LaTeX parser produces and the evaluators read. */

export type Bracket = '(' | ')' | '[' | ']';

export type Node =
  | { type: 'num'; text: string }
  | { type: 'sym'; name: string }
  /** pi, e, i, infinity: names kept apart from variables so they are never substituted. */
  | { type: 'const'; name: 'pi' | 'e' | 'i' | 'inf' }
  | { type: 'add'; terms: Node[] }
  | { type: 'neg'; arg: Node }
  | { type: 'mul'; factors: Node[] }
  | { type: 'div'; num: Node; den: Node }
  | { type: 'pow'; base: Node; exp: Node }
  | { type: 'func'; name: string; args: Node[] }
  /** `a \pm b`: two values at once. */
  | { type: 'pm'; left: Node | null; right: Node }
  /** Bracketed, comma-separated items: tuples, ordered lists and intervals. */
  | { type: 'seq'; open: Bracket; close: Bracket; items: Node[] }
  | { type: 'set'; items: Node[] }
  /** Several answers written side by side, `1, 2` (no brackets): compared order-free. */
  | { type: 'list'; items: Node[] }
  | { type: 'matrix'; rows: Node[][] }
  /** A chain `a < b <= c` keeps every operand and operator. */
  | { type: 'rel'; ops: RelOp[]; args: Node[] }
  | { type: 'union'; items: Node[] }
  | { type: 'text'; value: string };

export type RelOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** A canonical spelling of a tree; equal strings mean equal trees. */
export function show(node: Node): string {
  switch (node.type) {
    case 'num':
      return node.text;
    case 'sym':
      return node.name;
    case 'const':
      return `\\${node.name}`;
    case 'add':
      return `(${node.terms.map(show).join('+')})`;
    case 'neg':
      return `-${show(node.arg)}`;
    case 'mul':
      return `(${node.factors.map(show).join('*')})`;
    case 'div':
      return `(${show(node.num)}/${show(node.den)})`;
    case 'pow':
      return `(${show(node.base)}^${show(node.exp)})`;
    case 'func':
      return `${node.name}(${node.args.map(show).join(',')})`;
    case 'pm':
      return `(${node.left ? show(node.left) : ''}±${show(node.right)})`;
    case 'seq':
      return `${node.open}${node.items.map(show).join(',')}${node.close}`;
    case 'set':
      return `{${node.items.map(show).join(',')}}`;
    case 'list':
      return node.items.map(show).join(',');
    case 'matrix':
      return `[${node.rows.map((row) => row.map(show).join('&')).join(';')}]`;
    case 'rel':
      return node.args.map((arg, i) => (i === 0 ? show(arg) : `${node.ops[i - 1] ?? '?'}${show(arg)}`)).join('');
    case 'union':
      return node.items.map(show).join('∪');
    case 'text':
      return `"${node.value}"`;
  }
}

/** Free variable names of a tree. */
export function variables(node: Node, into: Set<string> = new Set()): Set<string> {
  switch (node.type) {
    case 'sym':
      into.add(node.name);
      break;
    case 'num':
    case 'const':
    case 'text':
      break;
    case 'add':
      node.terms.forEach((t) => variables(t, into));
      break;
    case 'mul':
      node.factors.forEach((t) => variables(t, into));
      break;
    case 'neg':
      variables(node.arg, into);
      break;
    case 'div':
      variables(node.num, into);
      variables(node.den, into);
      break;
    case 'pow':
      variables(node.base, into);
      variables(node.exp, into);
      break;
    case 'func':
      node.args.forEach((t) => variables(t, into));
      break;
    case 'pm':
      if (node.left) variables(node.left, into);
      variables(node.right, into);
      break;
    case 'seq':
    case 'set':
    case 'list':
    case 'union':
      node.items.forEach((t) => variables(t, into));
      break;
    case 'matrix':
      node.rows.forEach((row) => row.forEach((t) => variables(t, into)));
      break;
    case 'rel':
      node.args.forEach((t) => variables(t, into));
      break;
  }
  return into;
}

/** True when the tree holds a decimal literal, so numeric tolerance (not exactness) applies. */
export function hasDecimal(node: Node): boolean {
  if (node.type === 'num') return /[.eE]/.test(node.text);
  return children(node).some(hasDecimal);
}

export function children(node: Node): Node[] {
  switch (node.type) {
    case 'num':
    case 'sym':
    case 'const':
    case 'text':
      return [];
    case 'add':
      return node.terms;
    case 'mul':
      return node.factors;
    case 'neg':
      return [node.arg];
    case 'div':
      return [node.num, node.den];
    case 'pow':
      return [node.base, node.exp];
    case 'func':
      return node.args;
    case 'pm':
      return node.left ? [node.left, node.right] : [node.right];
    case 'seq':
    case 'set':
    case 'list':
    case 'union':
      return node.items;
    case 'matrix':
      return node.rows.flat();
    case 'rel':
      return node.args;
  }
}
