/**
 * Rotary position embeddings, Hugging Face layout (rotate_half): dimension i is paired with
 * i + hd/2 and rotated by angle pos · theta^(-2i/hd).
 */

/** Cos/sin tables, each (T, hd/2). */
export function ropeTables(maxT: number, hd: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = hd / 2;
  const cos = new Float32Array(maxT * half);
  const sin = new Float32Array(maxT * half);
  for (let t = 0; t < maxT; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * Math.pow(theta, (-2 * i) / hd);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * Rotates in place the heads of `rows` vectors laid out (rows, nh, hd); row r is at position
 * positions[r]. Pass `inverse` for the backward pass (rotation by -angle, the transpose).
 */
export function ropeApply(
  x: Float32Array,
  positions: ArrayLike<number>,
  rows: number,
  nh: number,
  hd: number,
  cos: Float32Array,
  sin: Float32Array,
  inverse: boolean,
): void {
  const half = hd / 2;
  const sign = inverse ? -1 : 1;
  for (let r = 0; r < rows; r++) {
    const table = positions[r]! * half;
    for (let h = 0; h < nh; h++) {
      const base = (r * nh + h) * hd;
      for (let i = 0; i < half; i++) {
        const c = cos[table + i]!;
        const s = sign * sin[table + i]!;
        const a = x[base + i]!;
        const b = x[base + i + half]!;
        x[base + i] = a * c - b * s;
        x[base + i + half] = b * c + a * s;
      }
    }
  }
}
