/**
 * Incremental decoding with a KV cache, for sampling. One `step` takes a ragged batch of rows,
 * each (slot, token, position): prompt rows (prefill) and single next-token rows (decode) of
 * different sequences mix freely, which is what continuous batching needs. Every row's key and
 * value are written to its slot before any row attends, so prompt rows of one slot see each other
 * causally.
 *
 * Legend: R rows in this step, S cache slots, P positions per slot (the context length).
 */
import type { Arena } from './arena.js';
import { headDim } from './config.js';
import { embeddingForward } from './kernels/embedding.js';
import { rmsnormForward } from './kernels/rmsnorm.js';
import { ropeApply } from './kernels/rope.js';
import { swigluForward } from './kernels/swiglu.js';
import { tensorView, type Transformer } from './transformer.js';

export class Decoder {
  readonly slots: number;
  readonly maxRows: number;
  private readonly P: number;
  private readonly kCache: Float32Array; // (L,S,P,KVH*hd)
  private readonly vCache: Float32Array; // (L,S,P,KVH*hd)
  private readonly x: Float32Array; // (R,C)
  private readonly ln: Float32Array; // (R,C)
  private readonly rstd: Float32Array; // (R)
  private readonly q: Float32Array; // (R,H*hd)
  private readonly k: Float32Array; // (R,KVH*hd)
  private readonly v: Float32Array; // (R,KVH*hd)
  private readonly atty: Float32Array; // (R,H*hd)
  private readonly proj: Float32Array; // (R,C)
  private readonly gate: Float32Array; // (R,F)
  private readonly up: Float32Array; // (R,F)
  private readonly scores: Float32Array; // (P)
  private readonly lastLn: Float32Array; // (R,C) rows that need logits
  readonly logits: Float32Array; // (R,V)

  /** Width of a logits row: the model's vocabulary. */
  get vocabSize(): number {
    return this.model.config.vocabSize;
  }

  constructor(
    private readonly model: Transformer,
    slots: number,
    maxRows: number,
    arena: Arena,
  ) {
    const c = model.config;
    const C = c.hiddenSize;
    const hd = headDim(c);
    const KD = c.numKvHeads * hd;
    const QD = c.numHeads * hd;
    const F = c.intermediateSize;
    this.slots = slots;
    this.maxRows = maxRows;
    this.P = c.contextLength;
    this.kCache = arena.alloc(c.numLayers * slots * this.P * KD);
    this.vCache = arena.alloc(c.numLayers * slots * this.P * KD);
    this.x = arena.alloc(maxRows * C);
    this.ln = arena.alloc(maxRows * C);
    this.rstd = arena.alloc(maxRows);
    this.q = arena.alloc(maxRows * QD);
    this.k = arena.alloc(maxRows * KD);
    this.v = arena.alloc(maxRows * KD);
    this.atty = arena.alloc(maxRows * QD);
    this.proj = arena.alloc(maxRows * C);
    this.gate = arena.alloc(maxRows * F);
    this.up = arena.alloc(maxRows * F);
    this.scores = arena.alloc(this.P);
    this.lastLn = arena.alloc(maxRows * C);
    this.logits = arena.alloc(maxRows * c.vocabSize);
  }

  /** Copies the first `length` cached positions of slot `from` into slot `to` (shared prompt prefix). */
  copyPrefix(from: number, to: number, length: number): void {
    const c = this.model.config;
    const KD = c.numKvHeads * headDim(c);
    for (let l = 0; l < c.numLayers; l++) {
      const src = (l * this.slots + from) * this.P * KD;
      const dst = (l * this.slots + to) * this.P * KD;
      this.kCache.copyWithin(dst, src, src + length * KD);
      this.vCache.copyWithin(dst, src, src + length * KD);
    }
  }

  /**
   * Runs R rows through the model, extending the caches. `logitRows` lists the rows whose
   * next-token logits are wanted; they land in `this.logits` in that order, (logitRows.length, V).
   */
  step(slots: ArrayLike<number>, tokens: ArrayLike<number>, positions: ArrayLike<number>, R: number, logitRows: readonly number[]): Float32Array {
    if (R > this.maxRows) throw new RangeError(`decode step of ${R} rows exceeds the ${this.maxRows}-row buffer`);
    const model = this.model;
    const c = model.config;
    const C = c.hiddenSize;
    const hd = headDim(c);
    const H = c.numHeads;
    const KVH = c.numKvHeads;
    const KD = KVH * hd;
    const QD = H * hd;
    const F = c.intermediateSize;
    const V = c.vocabSize;
    const P = this.P;
    const S = this.slots;
    const group = H / KVH;
    const scale = 1 / Math.sqrt(hd);
    const p = model.params;
    const mm = model.kernels;
    const layout = model.layout;
    for (let r = 0; r < R; r++) {
      if (positions[r]! >= P) throw new RangeError(`position ${positions[r]} exceeds the context length ${P}`);
    }
    const x = this.x.subarray(0, R * C);
    const ln = this.ln.subarray(0, R * C);
    const q = this.q.subarray(0, R * QD);
    const k = this.k.subarray(0, R * KD);
    const v = this.v.subarray(0, R * KD);
    const atty = this.atty.subarray(0, R * QD);
    const proj = this.proj.subarray(0, R * C);
    const gate = this.gate.subarray(0, R * F);
    const up = this.up.subarray(0, R * F);
    embeddingForward(x, tokens, tensorView(p, layout.embed), R, C);
    for (let l = 0; l < c.numLayers; l++) {
      const w = layout.layers[l]!;
      rmsnormForward(ln, this.rstd, x, tensorView(p, w.inputNorm), R, C, c.rmsNormEps);
      mm.forward(q, ln, tensorView(p, w.qProj), R, C, QD);
      mm.forward(k, ln, tensorView(p, w.kProj), R, C, KD);
      mm.forward(v, ln, tensorView(p, w.vProj), R, C, KD);
      ropeApply(q, positions, R, H, hd, model.rope.cos, model.rope.sin, false);
      ropeApply(k, positions, R, KVH, hd, model.rope.cos, model.rope.sin, false);
      const layerBase = l * S * P * KD;
      for (let r = 0; r < R; r++) {
        const at = layerBase + (slots[r]! * P + positions[r]!) * KD;
        this.kCache.set(k.subarray(r * KD, r * KD + KD), at);
        this.vCache.set(v.subarray(r * KD, r * KD + KD), at);
      }
      const scores = this.scores;
      const kCache = this.kCache;
      const vCache = this.vCache;
      for (let r = 0; r < R; r++) {
        const slotBase = layerBase + slots[r]! * P * KD;
        const last = positions[r]!;
        for (let h = 0; h < H; h++) {
          const qBase = (r * H + h) * hd;
          const headOffset = Math.floor(h / group) * hd;
          let max = -Infinity;
          for (let s = 0; s <= last; s++) {
            const kBase = slotBase + s * KD + headOffset;
            let dot = 0;
            for (let d = 0; d < hd; d++) dot += q[qBase + d]! * kCache[kBase + d]!;
            dot *= scale;
            scores[s] = dot;
            if (dot > max) max = dot;
          }
          let sum = 0;
          for (let s = 0; s <= last; s++) {
            const e = Math.exp(scores[s]! - max);
            scores[s] = e;
            sum += e;
          }
          atty.fill(0, qBase, qBase + hd);
          for (let s = 0; s <= last; s++) {
            const weight = scores[s]! / sum;
            const vBase = slotBase + s * KD + headOffset;
            for (let d = 0; d < hd; d++) atty[qBase + d] = atty[qBase + d]! + weight * vCache[vBase + d]!;
          }
        }
      }
      mm.forward(proj, atty, tensorView(p, w.oProj), R, QD, C);
      for (let i = 0; i < R * C; i++) x[i] = x[i]! + proj[i]!;
      rmsnormForward(ln, this.rstd, x, tensorView(p, w.postNorm), R, C, c.rmsNormEps);
      mm.forward(gate, ln, tensorView(p, w.gateProj), R, C, F);
      mm.forward(up, ln, tensorView(p, w.upProj), R, C, F);
      swigluForward(gate, gate, up, R * F);
      mm.forward(proj, gate, tensorView(p, w.downProj), R, F, C);
      for (let i = 0; i < R * C; i++) x[i] = x[i]! + proj[i]!;
    }
    const count = logitRows.length;
    const picked = this.lastLn.subarray(0, count * C);
    for (let i = 0; i < count; i++) picked.set(x.subarray(logitRows[i]! * C, logitRows[i]! * C + C), i * C);
    rmsnormForward(picked, this.rstd, picked, tensorView(p, layout.finalNorm), count, C, c.rmsNormEps);
    const logits = this.logits.subarray(0, count * V);
    mm.forward(logits, picked, tensorView(p, layout.lmHead), count, C, V);
    return logits;
  }
}
