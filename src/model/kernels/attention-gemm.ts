/**
 * The fast path of causal grouped-query attention: per (batch, head) the score, softmax-backward
 * and value products run as dense matrix products through a `Gemm` (the WASM SIMD kernel), over
 * heads gathered into contiguous scratch. The causal half of the scores is computed and discarded
 * (2× the FLOPs of a masked loop, still several times faster). `attention.ts` is the reference that
 * the tests compare against. Requires T and hd to be multiples of 8.
 */
import type { AttentionShape } from './attention.js';

/** c (n×m) (+)= a (n×k) · b (k×m), all contiguous. */
export type Gemm = (c: Float32Array, a: Float32Array, b: Float32Array, n: number, k: number, m: number, accumulate: boolean) => void;

export interface AttentionScratch {
  qh: Float32Array; // (T,hd)
  kh: Float32Array; // (T,hd)
  kt: Float32Array; // (hd,T)
  vh: Float32Array; // (T,hd)
  vt: Float32Array; // (hd,T)
  oh: Float32Array; // (T,hd)
  dk: Float32Array; // (T,hd) accumulated over the query heads of a group
  dv: Float32Array; // (T,hd)
  square: Float32Array; // (T,T)
  square2: Float32Array; // (T,T)
}

export function attentionScratch(alloc: (count: number) => Float32Array, maxT: number, hd: number): AttentionScratch {
  const pad = Math.ceil(maxT / 8) * 8;
  return {
    qh: alloc(pad * hd),
    kh: alloc(pad * hd),
    kt: alloc(pad * hd),
    vh: alloc(pad * hd),
    vt: alloc(pad * hd),
    oh: alloc(pad * hd),
    dk: alloc(pad * hd),
    dv: alloc(pad * hd),
    square: alloc(pad * pad),
    square2: alloc(pad * pad),
  };
}

/** dst (T,hd) = rows of `src` laid out (B,T,nh,hd), batch b, head h. */
function gather(dst: Float32Array, src: Float32Array, b: number, h: number, T: number, nh: number, hd: number): void {
  for (let t = 0; t < T; t++) {
    const from = ((b * T + t) * nh + h) * hd;
    dst.set(src.subarray(from, from + hd), t * hd);
  }
}

function gatherTransposed(dst: Float32Array, src: Float32Array, b: number, h: number, T: number, nh: number, hd: number): void {
  for (let t = 0; t < T; t++) {
    const from = ((b * T + t) * nh + h) * hd;
    for (let d = 0; d < hd; d++) dst[d * T + t] = src[from + d]!;
  }
}

function scatterAdd(dst: Float32Array, src: Float32Array, b: number, h: number, T: number, nh: number, hd: number): void {
  for (let t = 0; t < T; t++) {
    const to = ((b * T + t) * nh + h) * hd;
    for (let d = 0; d < hd; d++) dst[to + d] = dst[to + d]! + src[t * hd + d]!;
  }
}

function transposeSquare(dst: Float32Array, src: Float32Array, T: number): void {
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) dst[j * T + i] = src[i * T + j]!;
}

/** Same contract as attentionForward: out (B,T,H,hd), att (B,H,T,T) probabilities. */
export function attentionForwardGemm(out: Float32Array, att: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, shape: AttentionShape, gemm: Gemm, s: AttentionScratch): void {
  const { B, T, H, KVH, hd } = shape;
  const group = H / KVH;
  const scale = 1 / Math.sqrt(hd);
  const qh = s.qh.subarray(0, T * hd);
  const kt = s.kt.subarray(0, hd * T);
  const vh = s.vh.subarray(0, T * hd);
  const oh = s.oh.subarray(0, T * hd);
  for (let b = 0; b < B; b++) {
    for (let kvh = 0; kvh < KVH; kvh++) {
      gatherTransposed(kt, k, b, kvh, T, KVH, hd);
      gather(vh, v, b, kvh, T, KVH, hd);
      for (let h = kvh * group; h < (kvh + 1) * group; h++) {
        gather(qh, q, b, h, T, H, hd);
        const scores = att.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
        gemm(scores, qh, kt, T, hd, T, false);
        // The causal softmax of each row, written again beside attention.ts's reference on purpose: the
        // tests compare the two paths, so neither may borrow the other's arithmetic.
        for (let t = 0; t < T; t++) {
          const row = t * T;
          let max = -Infinity;
          for (let j = 0; j <= t; j++) {
            const x = scores[row + j]! * scale;
            scores[row + j] = x;
            if (x > max) max = x;
          }
          let sum = 0;
          for (let j = 0; j <= t; j++) {
            const e = Math.exp(scores[row + j]! - max);
            scores[row + j] = e;
            sum += e;
          }
          const inv = 1 / sum;
          for (let j = 0; j <= t; j++) scores[row + j] = scores[row + j]! * inv;
          scores.fill(0, row + t + 1, row + T);
        }
        gemm(oh, scores, vh, T, T, hd, false);
        for (let t = 0; t < T; t++) out.set(oh.subarray(t * hd, t * hd + hd), ((b * T + t) * H + h) * hd);
      }
    }
  }
}

/** Same contract as attentionBackward: dq, dk, dv accumulate. */
export function attentionBackwardGemm(
  dq: Float32Array,
  dk: Float32Array,
  dv: Float32Array,
  dout: Float32Array,
  att: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  shape: AttentionShape,
  gemm: Gemm,
  s: AttentionScratch,
): void {
  const { B, T, H, KVH, hd } = shape;
  const group = H / KVH;
  const scale = 1 / Math.sqrt(hd);
  const qh = s.qh.subarray(0, T * hd);
  const kh = s.kh.subarray(0, T * hd);
  const vt = s.vt.subarray(0, hd * T);
  const doh = s.oh.subarray(0, T * hd);
  const dkh = s.dk.subarray(0, T * hd);
  const dvh = s.dv.subarray(0, T * hd);
  const dscores = s.square.subarray(0, T * T);
  const transposed = s.square2.subarray(0, T * T);
  for (let b = 0; b < B; b++) {
    for (let kvh = 0; kvh < KVH; kvh++) {
      gather(kh, k, b, kvh, T, KVH, hd);
      gatherTransposed(vt, v, b, kvh, T, KVH, hd);
      dkh.fill(0);
      dvh.fill(0);
      for (let h = kvh * group; h < (kvh + 1) * group; h++) {
        gather(qh, q, b, h, T, H, hd);
        gather(doh, dout, b, h, T, H, hd);
        const probs = att.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
        // dv (T,hd) += probsᵀ (T,T) · dout (T,hd)
        transposeSquare(transposed, probs, T);
        gemm(dvh, transposed, doh, T, T, hd, true);
        // dprobs (T,T) = dout (T,hd) · vᵀ (hd,T); softmax backward in place, times the score scale
        gemm(dscores, doh, vt, T, hd, T, false);
        for (let t = 0; t < T; t++) {
          const row = t * T;
          let weighted = 0;
          for (let j = 0; j <= t; j++) weighted += probs[row + j]! * dscores[row + j]!;
          for (let j = 0; j <= t; j++) dscores[row + j] = probs[row + j]! * (dscores[row + j]! - weighted) * scale;
          dscores.fill(0, row + t + 1, row + T);
        }
        // dq (T,hd) = dscores · k ; dk (T,hd) += dscoresᵀ · q
        const dqh = s.vh.subarray(0, T * hd); // vh is free during backward
        gemm(dqh, dscores, kh, T, T, hd, false);
        scatterAdd(dq, dqh, b, h, T, H, hd);
        transposeSquare(transposed, dscores, T);
        gemm(dkh, transposed, qh, T, T, hd, true);
      }
      scatterAdd(dk, dkh, b, kvh, T, KVH, hd);
      scatterAdd(dv, dvh, b, kvh, T, KVH, hd);
    }
  }
}
