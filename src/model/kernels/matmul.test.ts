import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Arena } from '../arena.js';
import { Rng } from '../../core/rng.js';
import { assembleMatmulWat } from './build-wasm.js';
import { matmulBackwardRef, matmulForwardRef } from './matmul.js';
import { MATMUL_WASM_BASE64 } from './matmul-wasm-bytes.js';
import { WasmMatmul } from './matmul-wasm.js';

const arena = new Arena();
const one = new WasmMatmul(arena, 1);
const two = new WasmMatmul(arena, 2);
after(() => two.close());

function random(rng: Rng, count: number): Float32Array {
  const view = arena.alloc(count);
  for (let i = 0; i < count; i++) view[i] = rng.normal();
  return view;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

test('the embedded wasm bytes are the current assembly of matmul.wat', async () => {
  const bytes = await assembleMatmulWat();
  assert.equal(Buffer.from(bytes).toString('base64'), MATMUL_WASM_BASE64);
});

// Odd row counts exercise the one-row remainder loop, 1 and 2 threads both the split and the single path.
for (const [N, C, OC] of [
  [1, 8, 8],
  [7, 16, 24],
  [37, 128, 384],
  [130, 384, 128],
  [64, 128, 128],
  // Wider than the transpose scratch (a large vocabulary's lm head): column and row blocks.
  [100, 96, 12008],
] as const) {
  test(`wasm matmul forward and backward match the reference within 1e-4 at N=${N} C=${C} OC=${OC}`, () => {
    const rng = new Rng(N * 1000 + C + OC);
    const inp = random(rng, N * C);
    const weight = random(rng, OC * C);
    const dout = random(rng, N * OC);
    const expected = new Float32Array(N * OC);
    matmulForwardRef(expected, inp, weight, N, C, OC);
    const expectedDinp = new Float32Array(N * C).fill(0.5);
    const expectedDweight = new Float32Array(OC * C).fill(-0.25);
    matmulBackwardRef(expectedDinp, expectedDweight, dout, inp, weight, N, C, OC);
    for (const kernels of [one, two]) {
      const out = arena.alloc(N * OC);
      kernels.forward(out, inp, weight, N, C, OC);
      const scale = Math.sqrt(Math.max(C, OC, N));
      assert.ok(maxDiff(out, expected) < 1e-4 * scale, `${kernels.name} forward differs by ${maxDiff(out, expected)}`);
      const dinp = arena.alloc(N * C).fill(0.5);
      const dweight = arena.alloc(OC * C).fill(-0.25);
      kernels.backward(dinp, dweight, dout, inp, weight, N, C, OC);
      assert.ok(maxDiff(dinp, expectedDinp) < 1e-4 * scale, `${kernels.name} dinp differs by ${maxDiff(dinp, expectedDinp)}`);
      assert.ok(maxDiff(dweight, expectedDweight) < 1e-4 * scale, `${kernels.name} dweight differs by ${maxDiff(dweight, expectedDweight)}`);
    }
  });
}

test('views outside the arena and widths that are not a multiple of 8 fall back to the reference', () => {
  const rng = new Rng(9);
  const inp = Float32Array.from({ length: 3 * 5 }, () => rng.normal());
  const weight = Float32Array.from({ length: 6 * 5 }, () => rng.normal());
  const out = new Float32Array(3 * 6);
  const expected = new Float32Array(3 * 6);
  two.forward(out, inp, weight, 3, 5, 6);
  matmulForwardRef(expected, inp, weight, 3, 5, 6);
  assert.deepEqual(out, expected);
});
