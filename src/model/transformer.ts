/**
 * The decoder-only transformer (Llama family: RMSNorm, rotary positions, SwiGLU, grouped-query
 * attention), with a hand-written forward and backward over a padded (B,T) batch. Its output head
 * is the target log-probability per position; the loss is any function of those (see policy.ts).
 *
 * Legend: B batch, T time, N = B·T rows, C hidden, F SwiGLU width, H query heads, KVH key/value
 * heads, hd head dim, V vocabulary.
 */
import { Arena } from './arena.js';
import { headDim, parameterLayout, validateConfig, type ModelConfig, type ParameterLayout, type TensorSpec } from './config.js';
import { attentionBackward, attentionForward } from './kernels/attention.js';
import { attentionBackwardGemm, attentionForwardGemm, attentionScratch, type AttentionScratch } from './kernels/attention-gemm.js';
import { embeddingBackward, embeddingForward } from './kernels/embedding.js';
import { logprobBackward, logprobForward } from './kernels/logprob.js';
import type { MatmulKernels } from './kernels/matmul.js';
import { rmsnormBackward, rmsnormForward } from './kernels/rmsnorm.js';
import { ropeApply, ropeTables } from './kernels/rope.js';
import { swigluBackward, swigluForward } from './kernels/swiglu.js';
import { Rng } from '../core/rng.js';

interface LayerActivations {
  input: Float32Array; // (N,C) residual entering the layer
  ln1: Float32Array; // (N,C)
  rstd1: Float32Array; // (N)
  q: Float32Array; // (N,H*hd) after rotation
  k: Float32Array; // (N,KVH*hd) after rotation
  v: Float32Array; // (N,KVH*hd)
  att: Float32Array; // (B,H,T,T)
  atty: Float32Array; // (N,H*hd)
  mid: Float32Array; // (N,C) residual after attention
  ln2: Float32Array; // (N,C)
  rstd2: Float32Array; // (N)
  gate: Float32Array; // (N,F)
  up: Float32Array; // (N,F)
  act: Float32Array; // (N,F)
}

interface Activations {
  /** Capacity in token rows (any B·T up to it fits; buffers are indexed from their start). */
  rows: number;
  /** Capacity of each layer's attention-probability buffer, in floats (B·H·T·T). */
  attSize: number;
  layers: LayerActivations[];
  output: Float32Array; // (N,C) residual after the last layer
  lnf: Float32Array; // (N,C)
  rstdf: Float32Array; // (N)
  probs: Float32Array; // (N,V) softmax, then dlogits in backward
  logprobs: Float32Array; // (N)
  tokens: Int32Array; // (N)
  targets: Int32Array; // (N), -1 on padding
  positions: Int32Array; // (N)
  // backward scratch
  dres: Float32Array; // (N,C)
  dln: Float32Array; // (N,C)
  dq: Float32Array; // (N,H*hd)
  dk: Float32Array; // (N,KVH*hd)
  dv: Float32Array; // (N,KVH*hd)
  datty: Float32Array; // (N,H*hd)
  dact: Float32Array; // (N,F)
  dgate: Float32Array; // (N,F)
  dup: Float32Array; // (N,F)
  row: Float32Array; // (T)
  attentionScratch: AttentionScratch;
}

export function tensorView(buffer: Float32Array, spec: TensorSpec): Float32Array {
  return buffer.subarray(spec.offset, spec.offset + spec.size);
}

export class Transformer {
  readonly layout: ParameterLayout;
  readonly arena: Arena;
  /** All parameters, in layout order. */
  readonly params: Float32Array;
  /** Gradients, same layout; backward accumulates into them. */
  readonly grads: Float32Array;
  readonly rope: { cos: Float32Array; sin: Float32Array };
  private activations: Activations | undefined;
  private lastForward: { B: number; T: number } | undefined;
  /** Ids below this are the tokenizer's; the rest pad the vocabulary to a multiple of 8 and get no probability. */
  activeVocab: number;

  constructor(
    readonly config: ModelConfig,
    public kernels: MatmulKernels,
    arena?: Arena,
  ) {
    validateConfig(config);
    this.activeVocab = config.vocabSize;
    this.layout = parameterLayout(config);
    this.arena = arena ?? new Arena();
    this.params = this.arena.alloc(this.layout.totalSize);
    this.grads = this.arena.alloc(this.layout.totalSize);
    this.rope = ropeTables(config.contextLength, headDim(config), config.ropeTheta);
  }

  /** Normal(0, 0.02) matrices, output projections scaled by 1/sqrt(2L) (GPT-2), norms at 1. */
  initialize(seed: number): void {
    const rng = new Rng(seed);
    const residualScale = 1 / Math.sqrt(2 * this.config.numLayers);
    for (const spec of this.layout.tensors) {
      const view = tensorView(this.params, spec);
      if (spec.shape.length === 1) view.fill(1);
      else {
        const std = spec.name.endsWith('o_proj.weight') || spec.name.endsWith('down_proj.weight') ? 0.02 * residualScale : 0.02;
        for (let i = 0; i < view.length; i++) view[i] = rng.normal() * std;
      }
    }
  }

  /** The dense-product attention needs a gemm kernel and T, hd multiples of 8 (callers pad T). */
  private useGemmAttention(T: number): boolean {
    return this.kernels.gemm !== undefined && T % 8 === 0 && headDim(this.config) % 8 === 0;
  }

  private readonly gemm = (c: Float32Array, a: Float32Array, b: Float32Array, n: number, k: number, m: number, accumulate: boolean): void => {
    this.kernels.gemm!(c, a, b, n, k, m, accumulate);
  };

  zeroGrad(): void {
    this.grads.fill(0);
  }

  private activationsStart = 0;
  private activationsEnd = -1;

  /**
   * Activations for the largest (B,T) seen so far. Growing allocates anew; the old block is reused when it
   * is the arena's last allocation, and abandoned otherwise (other buffers follow it).
   */
  /** The sizes forward and backward index with: hidden C, head dim, heads, KV heads, MLP width F, vocabulary V. */
  private dims(): { C: number; hd: number; H: number; KVH: number; F: number; V: number } {
    const c = this.config;
    return { C: c.hiddenSize, hd: headDim(c), H: c.numHeads, KVH: c.numKvHeads, F: c.intermediateSize, V: c.vocabSize };
  }

  private ensureActivations(B: number, T: number): Activations {
    const current = this.activations;
    const c = this.config;
    // Buffers are indexed with the current (B,T) from their start, so only total sizes matter.
    if (current && current.rows >= B * T && current.attSize >= B * c.numHeads * T * T) {
      return current;
    }
    // Grow geometrically so a run of slowly rising batch shapes regrows a few times, not every step.
    const grow = (needed: number, had: number) => (needed > had ? Math.max(needed, Math.ceil(had * 1.5)) : had);
    const N = grow(B * T, current?.rows ?? 0);
    const attSize = grow(B * c.numHeads * T * T, current?.attSize ?? 0);
    // When nothing was carved after the old block, hand it back so regrowth does not leak it
    // (a long RL run otherwise exhausts the 2 GiB arena).
    if (current && this.activationsEnd === this.arena.mark()) this.arena.release(this.activationsStart);
    this.activationsStart = this.arena.mark();
    const C = c.hiddenSize;
    const hd = headDim(c);
    const QD = c.numHeads * hd;
    const KD = c.numKvHeads * hd;
    const F = c.intermediateSize;
    const a = this.arena;
    const layers: LayerActivations[] = [];
    for (let l = 0; l < c.numLayers; l++) {
      layers.push({
        input: a.alloc(N * C),
        ln1: a.alloc(N * C),
        rstd1: a.alloc(N),
        q: a.alloc(N * QD),
        k: a.alloc(N * KD),
        v: a.alloc(N * KD),
        att: a.alloc(attSize),
        atty: a.alloc(N * QD),
        mid: a.alloc(N * C),
        ln2: a.alloc(N * C),
        rstd2: a.alloc(N),
        gate: a.alloc(N * F),
        up: a.alloc(N * F),
        act: a.alloc(N * F),
      });
    }
    this.activations = {
      rows: N,
      layers,
      output: a.alloc(N * C),
      lnf: a.alloc(N * C),
      rstdf: a.alloc(N),
      probs: a.alloc(N * c.vocabSize),
      logprobs: a.alloc(N),
      tokens: new Int32Array(N),
      targets: new Int32Array(N),
      positions: new Int32Array(N),
      dres: a.alloc(N * C),
      dln: a.alloc(N * C),
      dq: a.alloc(N * QD),
      dk: a.alloc(N * KD),
      dv: a.alloc(N * KD),
      datty: a.alloc(N * QD),
      dact: a.alloc(N * F),
      dgate: a.alloc(N * F),
      dup: a.alloc(N * F),
      row: a.alloc(c.contextLength),
      attentionScratch: attentionScratch((count) => a.alloc(count), c.contextLength, hd),
      attSize,
    };
    this.activationsEnd = this.arena.mark();
    return this.activations;
  }

  /**
   * tokens (B,T), targets (B,T) with -1 where no target; returns logprobs (B,T) of the targets
   * (0 where none). The returned view is overwritten by the next forward.
   */
  forward(tokens: ArrayLike<number>, targets: ArrayLike<number>, B: number, T: number): Float32Array {
    if (T > this.config.contextLength) throw new RangeError(`sequence length ${T} exceeds the context length ${this.config.contextLength}`);
    const c = this.config;
    const acts = this.ensureActivations(B, T);
    const N = B * T;
    const { C, hd, H, KVH, F, V } = this.dims();
    const mm = this.kernels;
    const p = this.params;
    for (let n = 0; n < N; n++) {
      const token = tokens[n]!;
      if (!(token >= 0 && token < V)) throw new RangeError(`token id ${token} at position ${n} is outside the vocabulary of ${V}`);
      acts.tokens[n] = token;
      acts.targets[n] = targets[n]!;
      acts.positions[n] = n % T;
    }
    const shape = { B, T, H, KVH, hd };
    let x = acts.layers[0]!.input.subarray(0, N * C);
    embeddingForward(x, acts.tokens, tensorView(p, this.layout.embed), N, C);
    for (let l = 0; l < c.numLayers; l++) {
      const w = this.layout.layers[l]!;
      const la = acts.layers[l]!;
      const q = la.q.subarray(0, N * H * hd);
      const k = la.k.subarray(0, N * KVH * hd);
      const v = la.v.subarray(0, N * KVH * hd);
      const atty = la.atty.subarray(0, N * H * hd);
      x = la.input.subarray(0, N * C);
      rmsnormForward(la.ln1, la.rstd1, x, tensorView(p, w.inputNorm), N, C, c.rmsNormEps);
      mm.forward(q, la.ln1.subarray(0, N * C), tensorView(p, w.qProj), N, C, H * hd);
      mm.forward(k, la.ln1.subarray(0, N * C), tensorView(p, w.kProj), N, C, KVH * hd);
      mm.forward(v, la.ln1.subarray(0, N * C), tensorView(p, w.vProj), N, C, KVH * hd);
      ropeApply(q, acts.positions, N, H, hd, this.rope.cos, this.rope.sin, false);
      ropeApply(k, acts.positions, N, KVH, hd, this.rope.cos, this.rope.sin, false);
      if (this.useGemmAttention(T)) attentionForwardGemm(atty, la.att, q, k, v, shape, this.gemm, acts.attentionScratch);
      else attentionForward(atty, la.att, q, k, v, shape);
      const mid = la.mid.subarray(0, N * C);
      mm.forward(mid, atty, tensorView(p, w.oProj), N, H * hd, C);
      for (let i = 0; i < N * C; i++) mid[i] = mid[i]! + (x[i]!);
      rmsnormForward(la.ln2, la.rstd2, mid, tensorView(p, w.postNorm), N, C, c.rmsNormEps);
      const ln2 = la.ln2.subarray(0, N * C);
      mm.forward(la.gate.subarray(0, N * F), ln2, tensorView(p, w.gateProj), N, C, F);
      mm.forward(la.up.subarray(0, N * F), ln2, tensorView(p, w.upProj), N, C, F);
      swigluForward(la.act, la.gate, la.up, N * F);
      const out = (l + 1 < c.numLayers ? acts.layers[l + 1]!.input : acts.output).subarray(0, N * C);
      mm.forward(out, la.act.subarray(0, N * F), tensorView(p, w.downProj), N, F, C);
      for (let i = 0; i < N * C; i++) out[i] = out[i]! + (mid[i]!);
      x = out;
    }
    rmsnormForward(acts.lnf, acts.rstdf, x, tensorView(p, this.layout.finalNorm), N, C, c.rmsNormEps);
    const probs = acts.probs.subarray(0, N * V);
    mm.forward(probs, acts.lnf.subarray(0, N * C), tensorView(p, this.layout.lmHead), N, C, V);
    // Ids past the tokenizer's vocabulary (padding to a multiple of 8) are never sampled: out of the softmax.
    if (this.activeVocab < V) for (let n = 0; n < N; n++) probs.fill(-Infinity, n * V + this.activeVocab, n * V + V);
    logprobForward(acts.logprobs, probs, acts.targets, N, V);
    this.lastForward = { B, T };
    return acts.logprobs.subarray(0, N);
  }

  /** Accumulates into `grads` the gradient of Σ dlogprobs·logprobs of the last forward. dlogprobs (B,T). */
  backward(dlogprobs: Float32Array): void {
    const last = this.lastForward;
    const acts = this.activations;
    if (!last || !acts) throw new Error('backward called before forward');
    const { B, T } = last;
    const c = this.config;
    const N = B * T;
    const { C, hd, H, KVH, F, V } = this.dims();
    const mm = this.kernels;
    const p = this.params;
    const g = this.grads;
    const shape = { B, T, H, KVH, hd };
    const probs = acts.probs.subarray(0, N * V);
    logprobBackward(probs, probs, dlogprobs, acts.targets, N, V);
    const dres = acts.dres.subarray(0, N * C);
    const dln = acts.dln.subarray(0, N * C);
    dln.fill(0);
    mm.backward(dln, tensorView(g, this.layout.lmHead), probs, acts.lnf.subarray(0, N * C), tensorView(p, this.layout.lmHead), N, C, V);
    dres.fill(0);
    rmsnormBackward(dres, tensorView(g, this.layout.finalNorm), dln, acts.output, tensorView(p, this.layout.finalNorm), acts.rstdf, N, C);
    for (let l = c.numLayers - 1; l >= 0; l--) {
      const w = this.layout.layers[l]!;
      const la = acts.layers[l]!;
      const dact = acts.dact.subarray(0, N * F);
      dact.fill(0);
      mm.backward(dact, tensorView(g, w.downProj), dres, la.act.subarray(0, N * F), tensorView(p, w.downProj), N, F, C);
      swigluBackward(acts.dgate, acts.dup, dact, la.gate, la.up, N * F);
      const ln2 = la.ln2.subarray(0, N * C);
      dln.fill(0);
      mm.backward(dln, tensorView(g, w.gateProj), acts.dgate.subarray(0, N * F), ln2, tensorView(p, w.gateProj), N, C, F);
      mm.backward(dln, tensorView(g, w.upProj), acts.dup.subarray(0, N * F), ln2, tensorView(p, w.upProj), N, C, F);
      rmsnormBackward(dres, tensorView(g, w.postNorm), dln, la.mid, tensorView(p, w.postNorm), la.rstd2, N, C);
      const datty = acts.datty.subarray(0, N * H * hd);
      datty.fill(0);
      mm.backward(datty, tensorView(g, w.oProj), dres, la.atty.subarray(0, N * H * hd), tensorView(p, w.oProj), N, H * hd, C);
      const dq = acts.dq.subarray(0, N * H * hd);
      const dk = acts.dk.subarray(0, N * KVH * hd);
      const dv = acts.dv.subarray(0, N * KVH * hd);
      dq.fill(0);
      dk.fill(0);
      dv.fill(0);
      if (this.useGemmAttention(T)) attentionBackwardGemm(dq, dk, dv, datty, la.att, la.q, la.k, la.v, shape, this.gemm, acts.attentionScratch);
      else attentionBackward(dq, dk, dv, datty, la.att, la.q, la.k, la.v, acts.row, shape);
      ropeApply(dq, acts.positions, N, H, hd, this.rope.cos, this.rope.sin, true);
      ropeApply(dk, acts.positions, N, KVH, hd, this.rope.cos, this.rope.sin, true);
      const ln1 = la.ln1.subarray(0, N * C);
      dln.fill(0);
      mm.backward(dln, tensorView(g, w.qProj), dq, ln1, tensorView(p, w.qProj), N, C, H * hd);
      mm.backward(dln, tensorView(g, w.kProj), dk, ln1, tensorView(p, w.kProj), N, C, KVH * hd);
      mm.backward(dln, tensorView(g, w.vProj), dv, ln1, tensorView(p, w.vProj), N, C, KVH * hd);
      rmsnormBackward(dres, tensorView(g, w.inputNorm), dln, la.input, tensorView(p, w.inputNorm), la.rstd1, N, C);
    }
    embeddingBackward(tensorView(g, this.layout.embed), dres, acts.tokens, N, C);
  }
}
