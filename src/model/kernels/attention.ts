/**
 * Causal multi-head self-attention with grouped-query heads, over a full (B,T) batch (training).
 * Query head h reads key/value head h / (H / KVH). Decoding with a KV cache is in `../decode.ts`.
 */

export interface AttentionShape {
  B: number;
  T: number;
  H: number;
  KVH: number;
  hd: number;
}

/** out (B,T,H,hd), att (B,H,T,T) softmax probabilities, q (B,T,H,hd), k/v (B,T,KVH,hd) */
export function attentionForward(out: Float32Array, att: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, shape: AttentionShape): void {
  const { B, T, H, KVH, hd } = shape;
  const group = H / KVH;
  const scale = 1 / Math.sqrt(hd);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const qBase = ((b * T + t) * H + h) * hd;
        const attRow = ((b * H + h) * T + t) * T;
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          const kBase = ((b * T + s) * KVH + kvh) * hd;
          let dot = 0;
          for (let d = 0; d < hd; d++) dot += q[qBase + d]! * k[kBase + d]!;
          dot *= scale;
          att[attRow + s] = dot;
          if (dot > max) max = dot;
        }
        let sum = 0;
        for (let s = 0; s <= t; s++) {
          const e = Math.exp(att[attRow + s]! - max);
          att[attRow + s] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let s = 0; s <= t; s++) att[attRow + s] = att[attRow + s]! * inv;
        for (let s = t + 1; s < T; s++) att[attRow + s] = 0;
        const oBase = qBase;
        for (let d = 0; d < hd; d++) out[oBase + d] = 0;
        for (let s = 0; s <= t; s++) {
          const p = att[attRow + s]!;
          const vBase = ((b * T + s) * KVH + kvh) * hd;
          for (let d = 0; d < hd; d++) out[oBase + d] = out[oBase + d]! + (p * v[vBase + d]!);
        }
      }
    }
  }
}

/**
 * dq (B,T,H,hd) +=, dk/dv (B,T,KVH,hd) +=, dout (B,T,H,hd), att (B,H,T,T), q/k/v as forward.
 * `scratch` holds one row of T floats.
 */
export function attentionBackward(
  dq: Float32Array,
  dk: Float32Array,
  dv: Float32Array,
  dout: Float32Array,
  att: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  scratch: Float32Array,
  shape: AttentionShape,
): void {
  const { B, T, H, KVH, hd } = shape;
  const group = H / KVH;
  const scale = 1 / Math.sqrt(hd);
  // The same loop nest as the forward pass: a plain reference keeps each pass readable on its own.
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const qBase = ((b * T + t) * H + h) * hd;
        const attRow = ((b * H + h) * T + t) * T;
        // datt_s = dout·v_s ; dv_s += att_s dout
        let weighted = 0;
        for (let s = 0; s <= t; s++) {
          const vBase = ((b * T + s) * KVH + kvh) * hd;
          const p = att[attRow + s]!;
          let dot = 0;
          for (let d = 0; d < hd; d++) {
            const g = dout[qBase + d]!;
            dot += g * v[vBase + d]!;
            dv[vBase + d] = dv[vBase + d]! + (p * g);
          }
          scratch[s] = dot;
          weighted += p * dot;
        }
        // softmax backward: dpre_s = att_s (datt_s - Σ att datt); then through the scaled dot product
        for (let s = 0; s <= t; s++) {
          const dpre = att[attRow + s]! * (scratch[s]! - weighted) * scale;
          if (dpre === 0) continue;
          const kBase = ((b * T + s) * KVH + kvh) * hd;
          for (let d = 0; d < hd; d++) {
            dq[qBase + d] = dq[qBase + d]! + (dpre * k[kBase + d]!);
            dk[kBase + d] = dk[kBase + d]! + (dpre * q[qBase + d]!);
          }
        }
      }
    }
  }
}
