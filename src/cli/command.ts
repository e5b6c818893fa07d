/** The shape of a CLI command. Commands only parse, call library code and print. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CirError } from '../core/errors.js';

export interface Command {
  /** Words after `cir`, e.g. `exec` or `sandbox doctor`. */
  name: string;
  summary: string;
  /** Full help text printed by `--help`. */
  help: string;
  /** Returns the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends CirError {
  override readonly name: string = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** `parseArgs` with strict checking and errors turned into `UsageError`. */
export function parseCommandLine<T extends Options>(argv: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** A flag that takes one of a few names; `fallback` when it is absent. */
export function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** Parses a numeric flag, naming the flag when it is not a number in range. */
export function numberFlag(value: string | undefined, flag: string, fallback: number, min = -Infinity, max = Infinity): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`--${flag} must be a number between ${min} and ${max}, got ${JSON.stringify(value)}`);
  }
  return parsed;
}
