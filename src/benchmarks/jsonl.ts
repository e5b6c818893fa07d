/** Reading JSONL benchmark files with errors that name the file, the line and the field. */
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.js';

export type JsonObject = Record<string, unknown>;

/** Parses JSONL text into objects; `source` names the file in errors. Blank lines are skipped. */
export function parseJsonl(text: string, source: string): { line: number; value: JsonObject }[] {
  const rows: { line: number; value: JsonObject }[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]?.trim() ?? '';
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new InputError(`line ${index + 1} is not valid JSON (${error instanceof Error ? error.message : String(error)})`, source);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InputError(`line ${index + 1} is not a JSON object`, source);
    }
    rows.push({ line: index + 1, value: value as JsonObject });
  }
  return rows;
}

export async function readJsonl(path: string): Promise<{ line: number; value: JsonObject }[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read benchmark file (${error instanceof Error ? error.message : String(error)})`, path);
  }
  return parseJsonl(text, path);
}

/** Field accessors that throw an `InputError` naming `source:line` and the field. */
export class RecordReader {
  constructor(
    private readonly value: JsonObject,
    private readonly where: string,
  ) {}

  private fail(field: string, what: string): never {
    throw new InputError(`field "${field}" ${what}`, this.where);
  }

  string(field: string): string {
    const v = this.value[field];
    if (typeof v !== 'string') this.fail(field, v === undefined ? 'is missing' : `must be a string, got ${typeof v}`);
    return v;
  }

  optionalString(field: string): string | undefined {
    const v = this.value[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') this.fail(field, `must be a string or null, got ${typeof v}`);
    return v;
  }

  boolean(field: string, fallback?: boolean): boolean {
    const v = this.value[field];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'boolean') this.fail(field, v === undefined ? 'is missing' : `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  stringArray(field: string, optional = false): string[] | undefined {
    const v = this.value[field];
    if ((v === undefined || v === null) && optional) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) this.fail(field, 'must be an array of strings');
    return v as string[];
  }

  /** The raw value, for fields with their own structure. */
  raw(field: string): unknown {
    return this.value[field];
  }

  /** `source:line`, for nested errors. */
  get location(): string {
    return this.where;
  }
}
