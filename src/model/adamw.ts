/** AdamW with decoupled weight decay (not applied to norm weights) and global gradient-norm clipping. */
import type { AdamParams } from '../core/policy.js';
import type { Arena } from './arena.js';
import type { TensorSpec } from './config.js';

export const DEFAULT_ADAM_PARAMS: Readonly<AdamParams> = {
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0,
  gradClip: 1,
};

export class AdamW {
  readonly m: Float32Array;
  readonly v: Float32Array;
  step = 0;
  /** 1 where weight decay applies (matrices), 0 for norm weights. */
  private readonly decayMask: Uint8Array;

  constructor(size: number, tensors: readonly TensorSpec[], arena?: Arena) {
    this.m = arena ? arena.alloc(size) : new Float32Array(size);
    this.v = arena ? arena.alloc(size) : new Float32Array(size);
    this.decayMask = new Uint8Array(size);
    for (const spec of tensors) if (spec.shape.length > 1) this.decayMask.fill(1, spec.offset, spec.offset + spec.size);
  }

  /** Applies one update to `params` from `grads` (left untouched); returns the norm before clipping. */
  update(params: Float32Array, grads: Float32Array, options: AdamParams): { gradNorm: number } {
    let sumSq = 0;
    for (let i = 0; i < grads.length; i++) sumSq += grads[i]! * grads[i]!;
    const gradNorm = Math.sqrt(sumSq);
    const scale = options.gradClip > 0 && gradNorm > options.gradClip ? options.gradClip / gradNorm : 1;
    this.step++;
    const { learningRate: lr, beta1, beta2, eps, weightDecay } = options;
    const correction1 = 1 - Math.pow(beta1, this.step);
    const correction2 = 1 - Math.pow(beta2, this.step);
    const m = this.m;
    const v = this.v;
    for (let i = 0; i < params.length; i++) {
      const g = grads[i]! * scale;
      const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * g);
      const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * g * g);
      const update = mi / correction1 / (Math.sqrt(vi / correction2) + eps);
      const decay = this.decayMask[i] === 1 ? weightDecay * params[i]! : 0;
      params[i] = params[i]! - lr * (update + decay);
    }
    return { gradNorm };
  }
}
