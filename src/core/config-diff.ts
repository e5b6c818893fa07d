/**
 * Where two plain-JSON configurations differ, for `--resume` refusing changed settings (train and
 * eval run stores). Each difference names the dotted path and both values.
 */
export interface ConfigDifference {
  /** Dotted path of the field, e.g. `rl.budget.kind`; `(root)` when the values themselves differ. */
  path: string;
  before: unknown;
  after: unknown;
}

export function configDifferences(before: unknown, after: unknown, path = ''): ConfigDifference[] {
  if (isObject(before) && isObject(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) => configDifferences(before[key], after[key], path ? `${path}.${key}` : key));
  }
  return Object.is(before, after) ? [] : [{ path: path || '(root)', before, after }];
}

/** `path: before → after`, values as JSON (`undefined` for a missing field). */
export function describeDifference(difference: ConfigDifference): string {
  const show = (value: unknown) => (value === undefined ? 'undefined' : JSON.stringify(value));
  return `${difference.path}: ${show(difference.before)} → ${show(difference.after)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
