/** RMSNorm: y = x / sqrt(mean(x²) + eps) · weight. Forward caches rstd for backward. */

/** out (N,C), rstd (N), inp (N,C), weight (C) */
export function rmsnormForward(out: Float32Array, rstd: Float32Array, inp: Float32Array, weight: Float32Array, N: number, C: number, eps: number): void {
  for (let n = 0; n < N; n++) {
    const row = n * C;
    let sumSq = 0;
    for (let c = 0; c < C; c++) sumSq += inp[row + c]! * inp[row + c]!;
    const r = 1 / Math.sqrt(sumSq / C + eps);
    rstd[n] = r;
    for (let c = 0; c < C; c++) out[row + c] = inp[row + c]! * r * weight[c]!;
  }
}

/** dinp (N,C) +=, dweight (C) +=, dout (N,C), inp (N,C), weight (C), rstd (N) */
export function rmsnormBackward(
  dinp: Float32Array,
  dweight: Float32Array,
  dout: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  rstd: Float32Array,
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const row = n * C;
    const r = rstd[n]!;
    // y_c = x_c r w_c, r = (mean x² + eps)^-1/2  =>  dx_c = r (g_c w_c) - x_c r³ / C · Σ_j g_j w_j x_j
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dout[row + c]! * weight[c]! * inp[row + c]!;
    const k = (dot * r * r * r) / C;
    for (let c = 0; c < C; c++) {
      const x = inp[row + c]!;
      const g = dout[row + c]!;
      dweight[c] = dweight[c]! + (g * x * r);
      dinp[row + c] = dinp[row + c]! + (r * g * weight[c]! - x * k);
    }
  }
}
