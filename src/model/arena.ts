/**
 * One growable shared WebAssembly memory from which every model buffer is carved as a Float32Array
 * view (llm.c's single allocation). Being shared, it is visible to the WASM kernels and to the
 * matmul worker thread without copies; growing it never detaches existing views.
 */

import { wasm, type WasmMemory } from './wasm-api.js';

const PAGE_BYTES = 65536;
const MAX_PAGES = 32768; // 2 GiB
const ALIGN_BYTES = 64;

export class Arena {
  readonly memory: WasmMemory;
  private top = ALIGN_BYTES; // byte 0 stays unused so no buffer has address 0
  /** Every SharedArrayBuffer object this memory has exposed (grow returns a new one). */
  private readonly buffers = new Set<ArrayBufferLike>();

  constructor(initialBytes = 16 << 20) {
    this.memory = new wasm.Memory({ initial: Math.ceil(initialBytes / PAGE_BYTES), maximum: MAX_PAGES, shared: true });
    this.buffers.add(this.memory.buffer);
  }

  /** A zeroed view of `count` floats. */
  alloc(count: number): Float32Array {
    const start = this.top;
    const end = start + Math.ceil((count * 4) / ALIGN_BYTES) * ALIGN_BYTES;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      this.memory.grow(Math.ceil((end - have) / PAGE_BYTES));
      this.buffers.add(this.memory.buffer);
    }
    this.top = end;
    const view = new Float32Array(this.memory.buffer, start, count);
    view.fill(0);
    return view;
  }

  /** The current top, to `release` back to: buffers allocated after it are reused. */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
  }

  /** True when `view` lies in this memory (so the WASM kernels can address it). */
  owns(view: Float32Array): boolean {
    return this.buffers.has(view.buffer);
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }
}
