/** SwiGLU: h = silu(gate) · up, silu(g) = g · sigmoid(g). */

/** out (n), gate (n), up (n) */
export function swigluForward(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i]!;
    out[i] = (g / (1 + Math.exp(-g))) * up[i]!;
  }
}

/** dgate (n) =, dup (n) =, dout (n), gate (n), up (n) — overwrites, these buffers are scratch. */
export function swigluBackward(dgate: Float32Array, dup: Float32Array, dout: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i]!;
    const s = 1 / (1 + Math.exp(-g));
    const silu = g * s;
    const d = dout[i]!;
    dup[i] = d * silu;
    dgate[i] = d * up[i]! * s * (1 + g * (1 - s));
  }
}
