/**
 * The fast matmul: a WebAssembly SIMD kernel (matmul.wat, C (+)= A·B with a 4×8 register tile)
 * over the shared arena memory, split by rows between this thread and one worker thread. The
 * transposes the kernel's A·B form needs (Wᵀ for the forward, doutᵀ for the weight gradient) go to
 * a scratch buffer; they cost O(n²) against the O(n³) product. Shapes the kernel does not cover
 * (a width not a multiple of 8, a view outside the arena) fall back to the TypeScript reference.
 */
import { Worker } from 'node:worker_threads';
import type { Arena } from '../arena.js';
import { wasm, type WasmModule } from '../wasm-api.js';
import { gemmRef, matmulBackwardRef, matmulForwardRef, type MatmulKernels } from './matmul.js';
import { MATMUL_WASM_BASE64 } from './matmul-wasm-bytes.js';

type Gemm = (c: number, a: number, b: number, k: number, m: number, accumulate: number, r0: number, r1: number) => void;

let compiled: WasmModule | undefined;
function matmulModule(): WasmModule {
  compiled ??= new wasm.Module(new Uint8Array(Buffer.from(MATMUL_WASM_BASE64, 'base64')));
  return compiled;
}

/** Work below this many multiply-adds stays on one thread: waking the worker costs ~20-50 µs. */
const PARALLEL_MIN_MACS = 1 << 18;
/** Floats of transpose scratch; larger weight-gradient products are chunked over rows. */
const SCRATCH_FLOATS = 1 << 20;

// Control block: [0] command counter, [1] completed counter, [2..9] gemm arguments, [10] stop flag.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const instance = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } });
const gemm = instance.exports.gemm;
const control = new Int32Array(workerData.control);
let seen = 0;
for (;;) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  if (control[10] === 1) break;
  gemm(control[2], control[3], control[4], control[5], control[6], control[7], control[8], control[9]);
  Atomics.add(control, 1, 1);
  Atomics.notify(control, 1);
}
`;

export class WasmMatmul implements MatmulKernels {
  readonly name: string;
  private readonly kernel: Gemm;
  private readonly scratch: Float32Array;
  /** Output blocks of wide products (a large vocabulary's lm head), copied into place row by row. */
  private readonly blockScratch: Float32Array;
  private worker: Worker | undefined;
  private readonly control: Int32Array | undefined;
  private completed = 0;

  constructor(
    private readonly arena: Arena,
    readonly threads: 1 | 2 = 2,
  ) {
    const instance = new wasm.Instance(matmulModule(), { env: { memory: arena.memory } });
    this.kernel = instance.exports['gemm'] as Gemm;
    this.scratch = arena.alloc(SCRATCH_FLOATS);
    this.blockScratch = arena.alloc(SCRATCH_FLOATS);
    this.name = `wasm-simd-${threads}t`;
    if (threads === 2) {
      this.control = new Int32Array(new SharedArrayBuffer(16 * 4));
      this.worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: matmulModule(), memory: arena.memory, control: this.control.buffer },
      });
      this.worker.unref();
    }
  }

  /** Stops the worker thread. The kernels still work afterwards, on one thread. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker || !this.control) return;
    this.worker = undefined;
    Atomics.store(this.control, 10, 1);
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
    await worker.terminate();
  }

  /** C (n×m) (+)= A (n×k) · B (k×m), split by rows over the threads. */
  private run(c: Float32Array, a: Float32Array, b: Float32Array, n: number, k: number, m: number, accumulate: boolean): void {
    const acc = accumulate ? 1 : 0;
    const control = this.control;
    if (!this.worker || !control || n < 8 || n * k * m < PARALLEL_MIN_MACS) {
      this.kernel(c.byteOffset, a.byteOffset, b.byteOffset, k, m, acc, 0, n);
      return;
    }
    const split = (n >> 3) << 2; // half, rounded to the 4-row tile
    control[2] = c.byteOffset;
    control[3] = a.byteOffset;
    control[4] = b.byteOffset;
    control[5] = k;
    control[6] = m;
    control[7] = acc;
    control[8] = split;
    control[9] = n;
    const target = ++this.completed;
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
    this.kernel(c.byteOffset, a.byteOffset, b.byteOffset, k, m, acc, 0, split);
    for (let done = Atomics.load(control, 1); done < target; done = Atomics.load(control, 1)) Atomics.wait(control, 1, done);
  }

  gemm(c: Float32Array, a: Float32Array, b: Float32Array, n: number, k: number, m: number, accumulate: boolean): void {
    if (m % 8 !== 0 || !this.covers(c, a, b)) gemmRef(c, a, b, n, k, m, accumulate);
    else this.run(c, a, b, n, k, m, accumulate);
  }

  private covers(...views: Float32Array[]): boolean {
    return views.every((view) => this.arena.owns(view));
  }

  forward(out: Float32Array, inp: Float32Array, weight: Float32Array, N: number, C: number, OC: number): void {
    if (OC % 8 !== 0 || C > SCRATCH_FLOATS / 8 || !this.covers(out, inp, weight)) {
      matmulForwardRef(out, inp, weight, N, C, OC);
      return;
    }
    if (OC * C > SCRATCH_FLOATS) {
      this.wideForward(out, inp, weight, N, C, OC);
      return;
    }
    const weightT = this.scratch; // (C,OC)
    transpose(weightT, weight, OC, C);
    this.run(out, inp, weightT, N, C, OC, false);
  }

  /**
   * out (N,OC) = inp (N,C) · weightᵀ when the transposed weight does not fit the scratch: column blocks
   * of the weight, each product computed into a block buffer and copied into its columns of `out`.
   */
  private wideForward(out: Float32Array, inp: Float32Array, weight: Float32Array, N: number, C: number, OC: number): void {
    const columns = Math.floor(SCRATCH_FLOATS / C / 8) * 8;
    const rows = Math.max(1, Math.floor(SCRATCH_FLOATS / columns));
    for (let first = 0; first < OC; first += columns) {
      const width = Math.min(columns, OC - first);
      const weightT = this.scratch.subarray(0, C * width); // (C,width)
      transpose(weightT, weight.subarray(first * C, (first + width) * C), width, C);
      for (let row = 0; row < N; row += rows) {
        const count = Math.min(rows, N - row);
        const block = this.blockScratch.subarray(0, count * width);
        this.run(block, inp.subarray(row * C, (row + count) * C), weightT, count, C, width, false);
        for (let i = 0; i < count; i++) out.set(block.subarray(i * width, (i + 1) * width), (row + i) * OC + first);
      }
    }
  }

  backward(
    dinp: Float32Array | null,
    dweight: Float32Array | null,
    dout: Float32Array,
    inp: Float32Array,
    weight: Float32Array,
    N: number,
    C: number,
    OC: number,
  ): void {
    if (C % 8 !== 0 || OC > SCRATCH_FLOATS || !this.covers(dout, inp, weight) || (dinp && !this.covers(dinp)) || (dweight && !this.covers(dweight))) {
      matmulBackwardRef(dinp, dweight, dout, inp, weight, N, C, OC);
      return;
    }
    // dinp (N,C) += dout (N,OC) · weight (OC,C)
    if (dinp) this.run(dinp, dout, weight, N, OC, C, true);
    if (!dweight) return;
    // dweight (OC,C) += doutᵀ (OC,rows) · inp (rows,C), chunked so doutᵀ fits the scratch
    const chunk = Math.max(1, Math.floor(SCRATCH_FLOATS / OC));
    for (let start = 0; start < N; start += chunk) {
      const rows = Math.min(chunk, N - start);
      const doutT = this.scratch.subarray(0, OC * rows);
      transpose(doutT, dout.subarray(start * OC, (start + rows) * OC), rows, OC);
      this.run(dweight, doutT, inp.subarray(start * C, (start + rows) * C), OC, rows, C, true);
    }
  }
}

/** out (cols,rows) = inp (rows,cols)ᵀ, in 8×8 blocks for cache locality. */
export function transpose(out: Float32Array, inp: Float32Array, rows: number, cols: number): void {
  for (let r0 = 0; r0 < rows; r0 += 8) {
    const r1 = Math.min(rows, r0 + 8);
    for (let c0 = 0; c0 < cols; c0 += 8) {
      const c1 = Math.min(cols, c0 + 8);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = inp[r * cols + c]!;
    }
  }
}
