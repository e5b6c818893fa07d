/**
 * The project's one seeded generator (mulberry32), so initialisation, data, sampling, bootstrap
 * intervals and benches are reproducible. `Rng` is the object form; `seededRandom` the bare
 * `() => number` form for code that only needs uniforms.
 */
export class Rng {
  private state: number;

  /**
   * `Rng` replaces seed 0 by a fixed constant (kept so existing seeds draw what they always drew);
   * `seededRandom` runs the plain mulberry32 stream of the seed it is given.
   */
  constructor(seed: number, options?: { plainSeed?: boolean }) {
    this.state = options?.plainSeed ? seed >>> 0 : seed >>> 0 || 0x9e3779b9;
  }

  private spare: number | undefined;

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  normal(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }
}

/** Uniforms in [0, 1) from the plain mulberry32 stream of `seed`. */
export function seededRandom(seed: number): () => number {
  const rng = new Rng(seed, { plainSeed: true });
  return () => rng.next();
}
