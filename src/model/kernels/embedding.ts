/** Token embedding lookup. */

/** out (N,C), tokens (N), table (V,C) */
export function embeddingForward(out: Float32Array, tokens: ArrayLike<number>, table: Float32Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) out.set(table.subarray(tokens[n]! * C, tokens[n]! * C + C), n * C);
}

/** dtable (V,C) +=, dout (N,C), tokens (N) */
export function embeddingBackward(dtable: Float32Array, dout: Float32Array, tokens: ArrayLike<number>, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const row = tokens[n]! * C;
    for (let c = 0; c < C; c++) dtable[row + c] = dtable[row + c]! + (dout[n * C + c]!);
  }
}
