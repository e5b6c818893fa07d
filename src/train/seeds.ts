/**
 * Seeds derived from the run seed and a position (step, prompt, sample), never from a running
 * generator: every random choice of step s is a pure function of (seed, s, ...), so a run resumed
 * at step s draws exactly what the uninterrupted run drew there.
 */

/** A 31-bit seed from integer parts (FNV-1a over their 32-bit words, then a murmur finaliser). */
export function deriveSeed(...parts: readonly number[]): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    if (!Number.isInteger(part)) throw new RangeError(`seed parts must be integers, got ${part}`);
    let word = part | 0;
    const high = Math.floor(part / 2 ** 32) | 0;
    for (const value of [word, high]) {
      word = value;
      for (let byte = 0; byte < 4; byte++) {
        hash = Math.imul(hash ^ (word & 0xff), 0x01000193);
        word >>>= 8;
      }
    }
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) & 0x7fffffff;
}

/** Purposes of derived seeds, so two uses of the same (step, index) never share a stream. */
export const SEED_PURPOSE = { prompts: 1, rollout: 2, evaluation: 3 } as const;
