/**
 * Per-layer gradient checks: each backward against central finite differences of
 * loss = Σ r·forward(x) for a fixed random r, in float64 accumulations over float32 buffers.
 * The WASM attention path is compared with the TypeScript reference.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Arena } from '../arena.js';
import { Rng } from '../../core/rng.js';
import { attentionBackward, attentionForward } from './attention.js';
import { attentionBackwardGemm, attentionForwardGemm, attentionScratch } from './attention-gemm.js';
import { embeddingBackward, embeddingForward } from './embedding.js';
import { logprobBackward, logprobForward } from './logprob.js';
import { matmulBackwardRef, matmulForwardRef } from './matmul.js';
import { WasmMatmul } from './matmul-wasm.js';
import { rmsnormBackward, rmsnormForward } from './rmsnorm.js';
import { ropeApply, ropeTables } from './rope.js';
import { swigluBackward, swigluForward } from './swiglu.js';

const rng = new Rng(42);
const randomArray = (n: number, scale = 1) => Float32Array.from({ length: n }, () => rng.normal() * scale);
const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

/** Checks d(Σ r·f(x))/dx[i] against `analytic[i]` for a few indices of x. */
function checkGradient(name: string, x: Float32Array, analytic: Float32Array, loss: () => number, eps = 1e-2): void {
  for (let trial = 0; trial < 12; trial++) {
    const i = rng.int(0, x.length - 1);
    const original = x[i]!;
    x[i] = original + eps;
    const plus = loss();
    x[i] = original - eps;
    const minus = loss();
    x[i] = original;
    const numeric = (plus - minus) / (2 * eps);
    assert.ok(Math.abs(numeric - analytic[i]!) <= 2e-3 + 2e-2 * Math.abs(numeric), `${name}[${i}]: numeric ${numeric}, analytic ${analytic[i]}`);
  }
}

test('matmul backward matches finite differences', () => {
  const [N, C, OC] = [3, 5, 4];
  const inp = randomArray(N * C);
  const weight = randomArray(OC * C);
  const r = randomArray(N * OC);
  const out = new Float32Array(N * OC);
  const loss = () => (matmulForwardRef(out, inp, weight, N, C, OC), dot(out, r));
  const dinp = new Float32Array(N * C);
  const dweight = new Float32Array(OC * C);
  matmulBackwardRef(dinp, dweight, r, inp, weight, N, C, OC);
  checkGradient('inp', inp, dinp, loss);
  checkGradient('weight', weight, dweight, loss);
});

test('rmsnorm backward matches finite differences', () => {
  const [N, C] = [3, 8];
  const inp = randomArray(N * C);
  const weight = randomArray(C);
  const r = randomArray(N * C);
  const out = new Float32Array(N * C);
  const rstd = new Float32Array(N);
  const loss = () => (rmsnormForward(out, rstd, inp, weight, N, C, 1e-5), dot(out, r));
  loss();
  const dinp = new Float32Array(N * C);
  const dweight = new Float32Array(C);
  rmsnormBackward(dinp, dweight, r, inp, weight, rstd, N, C);
  checkGradient('inp', inp, dinp, loss);
  checkGradient('weight', weight, dweight, loss);
});

test('rope backward (inverse rotation) matches finite differences', () => {
  const [rows, nh, hd] = [4, 2, 8];
  const { cos, sin } = ropeTables(16, hd, 10000);
  const positions = [0, 3, 7, 15];
  const x = randomArray(rows * nh * hd);
  const r = randomArray(rows * nh * hd);
  const loss = () => {
    const y = x.slice();
    ropeApply(y, positions, rows, nh, hd, cos, sin, false);
    return dot(y, r);
  };
  const dx = r.slice();
  ropeApply(dx, positions, rows, nh, hd, cos, sin, true);
  checkGradient('x', x, dx, loss);
});

test('swiglu backward matches finite differences', () => {
  const n = 16;
  const gate = randomArray(n, 2);
  const up = randomArray(n);
  const r = randomArray(n);
  const out = new Float32Array(n);
  const loss = () => (swigluForward(out, gate, up, n), dot(out, r));
  const dgate = new Float32Array(n);
  const dup = new Float32Array(n);
  swigluBackward(dgate, dup, r, gate, up, n);
  checkGradient('gate', gate, dgate, loss);
  checkGradient('up', up, dup, loss);
});

test('embedding backward matches finite differences', () => {
  const [V, C] = [5, 4];
  const table = randomArray(V * C);
  const tokens = [1, 4, 1];
  const r = randomArray(tokens.length * C);
  const out = new Float32Array(tokens.length * C);
  const loss = () => (embeddingForward(out, tokens, table, tokens.length, C), dot(out, r));
  const dtable = new Float32Array(V * C);
  embeddingBackward(dtable, r, tokens, tokens.length, C);
  checkGradient('table', table, dtable, loss);
});

test('target log-probability backward matches finite differences', () => {
  const [N, V] = [3, 6];
  const logits = randomArray(N * V, 2);
  const targets = [2, -1, 5];
  const r = randomArray(N);
  const logprobs = new Float32Array(N);
  const loss = () => (logprobForward(logprobs, logits.slice(), targets, N, V), dot(logprobs, r));
  const probs = logits.slice();
  logprobForward(logprobs, probs, targets, N, V);
  const dlogits = new Float32Array(N * V);
  logprobBackward(dlogits, probs, r, targets, N, V);
  checkGradient('logits', logits, dlogits, loss);
  assert.equal(logprobs[1], 0);
});

const shape = { B: 2, T: 8, H: 4, KVH: 2, hd: 8 };
const qSize = shape.B * shape.T * shape.H * shape.hd;
const kSize = shape.B * shape.T * shape.KVH * shape.hd;

test('reference attention backward matches finite differences (grouped heads, causal)', () => {
  const q = randomArray(qSize);
  const k = randomArray(kSize);
  const v = randomArray(kSize);
  const r = randomArray(qSize);
  const out = new Float32Array(qSize);
  const att = new Float32Array(shape.B * shape.H * shape.T * shape.T);
  const loss = () => (attentionForward(out, att, q, k, v, shape), dot(out, r));
  loss();
  const dq = new Float32Array(qSize);
  const dk = new Float32Array(kSize);
  const dv = new Float32Array(kSize);
  attentionBackward(dq, dk, dv, r, att, q, k, v, new Float32Array(shape.T), shape);
  checkGradient('q', q, dq, loss);
  checkGradient('k', k, dk, loss);
  checkGradient('v', v, dv, loss);
});

const arena = new Arena();
const wasm = new WasmMatmul(arena, 2);
after(() => wasm.close());

test('the WASM attention path equals the reference forward and backward within 1e-5', () => {
  const inArena = (source: Float32Array) => {
    const view = arena.alloc(source.length);
    view.set(source);
    return view;
  };
  const q = inArena(randomArray(qSize));
  const k = inArena(randomArray(kSize));
  const v = inArena(randomArray(kSize));
  const dout = inArena(randomArray(qSize));
  const attSize = shape.B * shape.H * shape.T * shape.T;
  const outRef = new Float32Array(qSize);
  const attRef = new Float32Array(attSize);
  attentionForward(outRef, attRef, q, k, v, shape);
  const [dqRef, dkRef, dvRef] = [new Float32Array(qSize), new Float32Array(kSize), new Float32Array(kSize)];
  attentionBackward(dqRef, dkRef, dvRef, dout, attRef, q, k, v, new Float32Array(shape.T), shape);
  const scratch = attentionScratch((count) => arena.alloc(count), shape.T, shape.hd);
  const gemm = wasm.gemm.bind(wasm);
  const out = arena.alloc(qSize);
  const att = arena.alloc(attSize);
  attentionForwardGemm(out, att, q, k, v, shape, gemm, scratch);
  const [dq, dk, dv] = [arena.alloc(qSize), arena.alloc(kSize), arena.alloc(kSize)];
  attentionBackwardGemm(dq, dk, dv, dout, att, q, k, v, shape, gemm, scratch);
  const close = (a: Float32Array, b: Float32Array, what: string) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-5, `${what}[${i}] ${x} vs ${b[i]}`));
  close(out, outRef, 'out');
  close(att, attRef, 'att');
  close(dq, dqRef, 'dq');
  close(dk, dkRef, 'dk');
  close(dv, dvRef, 'dv');
});
