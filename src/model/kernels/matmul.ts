/**
 * Linear layer without bias, y = x·Wᵀ with W stored as Hugging Face does, (out, in).
 * The plain TypeScript reference; `matmul-wasm.ts` is the fast twin that tests compare against it.
 */

/** The matmul entry points the model calls; the reference and the WASM path both implement them. */
export interface MatmulKernels {
  readonly name: string;
  /** c (n×m) (+)= a (n×k) · b (k×m), contiguous; fast kernels only (attention uses it when present). */
  gemm?(c: Float32Array, a: Float32Array, b: Float32Array, n: number, k: number, m: number, accumulate: boolean): void;
  /** out (N,OC) = inp (N,C) · weight (OC,C)ᵀ */
  forward(out: Float32Array, inp: Float32Array, weight: Float32Array, N: number, C: number, OC: number): void;
  /** dinp (N,C) += dout (N,OC) · weight (OC,C); dweight (OC,C) += dout ᵀ· inp. Either output may be null. */
  backward(
    dinp: Float32Array | null,
    dweight: Float32Array | null,
    dout: Float32Array,
    inp: Float32Array,
    weight: Float32Array,
    N: number,
    C: number,
    OC: number,
  ): void;
}

export function matmulForwardRef(out: Float32Array, inp: Float32Array, weight: Float32Array, N: number, C: number, OC: number): void {
  for (let n = 0; n < N; n++) {
    const inRow = n * C;
    const outRow = n * OC;
    for (let o = 0; o < OC; o++) {
      const wRow = o * C;
      let sum = 0;
      for (let c = 0; c < C; c++) sum += inp[inRow + c]! * weight[wRow + c]!;
      out[outRow + o] = sum;
    }
  }
}

export function matmulBackwardRef(
  dinp: Float32Array | null,
  dweight: Float32Array | null,
  dout: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  N: number,
  C: number,
  OC: number,
): void {
  for (let n = 0; n < N; n++) {
    const inRow = n * C;
    const outRow = n * OC;
    for (let o = 0; o < OC; o++) {
      const d = dout[outRow + o]!;
      if (d === 0) continue;
      const wRow = o * C;
      if (dinp) for (let c = 0; c < C; c++) dinp[inRow + c] = dinp[inRow + c]! + (d * weight[wRow + c]!);
      if (dweight) for (let c = 0; c < C; c++) dweight[wRow + c] = dweight[wRow + c]! + (d * inp[inRow + c]!);
    }
  }
}

export const referenceMatmul: MatmulKernels = {
  name: 'typescript',
  forward: matmulForwardRef,
  backward: matmulBackwardRef,
};

/** c (n×m) (+)= a (n×k) · b (k×m), the reference for `MatmulKernels.gemm`. */
export function gemmRef(c: Float32Array, a: Float32Array, b: Float32Array, n: number, k: number, m: number, accumulate: boolean): void {
  for (let i = 0; i < n; i++) {
    if (!accumulate) c.fill(0, i * m, i * m + m);
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p]!;
      if (x === 0) continue;
      for (let j = 0; j < m; j++) c[i * m + j] = c[i * m + j]! + x * b[p * m + j]!;
    }
  }
}
