/**
 * Shape checks shared by the RL functions. Batches are ragged: row `b` of every `_B_T` array
 * has that datum's own length (its targets), so each check compares row by row.
 */
import { InputError } from '../core/errors.js';

/** A ragged batch of per-token numbers: row b, token t. */
export type Ragged = readonly ArrayLike<number>[];

/** Throws unless `rows` has `expected.length` rows and each row the same length as in `expected`. */
export function assertSameShape(name: string, rows: Ragged, reference: Ragged, referenceName: string): void {
  if (rows.length !== reference.length) {
    throw new InputError(`${name} has ${rows.length} rows but ${referenceName} has ${reference.length}`, name);
  }
  for (let b = 0; b < rows.length; b++) {
    const row = rows[b]!;
    const expected = reference[b]!;
    if (row.length !== expected.length) {
      throw new InputError(`${name}[${b}] has length ${row.length} but ${referenceName}[${b}] has length ${expected.length}`, name);
    }
  }
}

/** Throws unless every mask entry is 0 or 1. */
export function assertBinaryMask(name: string, mask_B_T: Ragged): void {
  for (let b = 0; b < mask_B_T.length; b++) {
    const row = mask_B_T[b]!;
    for (let t = 0; t < row.length; t++) {
      const value = row[t]!;
      if (value !== 0 && value !== 1) throw new InputError(`${name}[${b}][${t}] must be 0 or 1, got ${value}`, name);
    }
  }
}

/** Throws unless every entry at a mask-1 position is finite (NaN marks "unknown" elsewhere). */
export function assertFiniteWhereMasked(name: string, values_B_T: Ragged, mask_B_T: Ragged): void {
  for (let b = 0; b < values_B_T.length; b++) {
    const row = values_B_T[b]!;
    const mask = mask_B_T[b]!;
    for (let t = 0; t < row.length; t++) {
      if (mask[t] !== 0 && !Number.isFinite(row[t]!)) {
        throw new InputError(`${name}[${b}][${t}] must be a finite number where the mask is 1, got ${row[t]}`, name);
      }
    }
  }
}

/** Throws unless `value` is a finite number (optionally within a range). */
export function assertFiniteNumber(name: string, value: number, min = -Infinity, max = Infinity): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new InputError(`${name} must be a finite number in [${min}, ${max}], got ${value}`, name);
  }
}
