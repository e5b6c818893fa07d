/**
 * The supervised warm start: trains a policy on generated traces (policy tokens in the loss,
 * prompt and interpreter output masked). Its held-out accuracy is measured by the trainer's own
 * instrument (`evaluateHeldOut` in src/train: the rollout engine and the grader), which `cir
 * pretrain --eval` calls, so warm-start and RL figures are the same quantity.
 */
import type { AdamParams, PolicyBackend, TrainingDatum } from '../core/policy.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { Rng } from '../core/rng.js';
import { generateTraces, type Trace } from './index.js';

export function traceToDatum(trace: Trace, tokenizer: Tokenizer): TrainingDatum {
  const tokens = tokenizer.encode(trace.prompt);
  const trained: number[] = new Array<number>(tokens.length).fill(0);
  for (const segment of trace.segments) {
    const ids = tokenizer.encode(segment.text);
    tokens.push(...ids);
    trained.push(...ids.map(() => (segment.origin === 'policy' ? 1 : 0)));
  }
  tokens.push(tokenizer.eosTokenId);
  trained.push(1);
  // lossMask[t] covers the target tokens[t+1].
  return { tokens, lossMask: Float32Array.from(trained.slice(1)) };
}

/**
 * Copy drills: a random string of digits and symbols, then the same string again (loss on the
 * repeat). Traces copy the problem's numbers into the program and the interpreter's output into
 * \boxed{}, from varying distances, which needs "induction" heads (find the earlier occurrence of
 * the current token, copy what followed it). On traces alone a small model spends many hundreds of
 * steps predicting those digits at chance before such heads form; dense repeats form them quickly.
 */
export function copyDrills(count: number, seed: number, tokenizer: Tokenizer): TrainingDatum[] {
  const rng = new Rng(seed * 31 + 5);
  const alphabet = '0123456789+-*,^() ';
  return Array.from({ length: count }, () => {
    const length = rng.int(8, 60);
    let text = '';
    for (let i = 0; i < length; i++) text += rng.next() < 0.7 ? String(rng.int(0, 9)) : rng.pick([...alphabet]);
    const prefix = tokenizer.encode(`Q: ${text}\nA: `);
    const tokens = [...prefix, ...tokenizer.encode(text)];
    const lossMask = new Float32Array(tokens.length - 1);
    lossMask.fill(1, prefix.length - 1);
    return { tokens, lossMask };
  });
}

/**
 * A trace with extra weight on the digits it copies: the numbers its programs take from the problem
 * and the \boxed{} answer taken from the interpreter's output. `focus` marks those targets (same
 * indexing as lossMask). These digits are where a small model fails most (it writes gcd(192,167)
 * for gcd(192,176)), and on ordinary traces they are a small share of the loss.
 */
export function copyFocusDatum(trace: Trace, tokenizer: Tokenizer): TrainingDatum & { focus: Float32Array } {
  const datum = traceToDatum(trace, tokenizer);
  // lossMask marks exactly the policy's tokens (and the end token, never a digit).
  const focus = Float32Array.from(datum.lossMask, (trained, t) => (trained === 1 && /^[0-9]+$/.test(tokenizer.decode([datum.tokens[t + 1]!])) ? 1 : 0));
  return { ...datum, focus };
}

export interface PretrainOptions {
  /** Copy-drill steps before the traces (see copyDrills); default 0. */
  copySteps?: number;
  /**
   * Sequences per step drawn from code traces with the loss on their copied digits only
   * (copyFocusDatum); they carry half the step's loss. Default 0.
   */
  copyFocus?: number;
  steps: number;
  /** Sequences per step. */
  batchSize: number;
  seed: number;
  /** Peak learning rate; linear warm-up over the first 5% of steps, cosine decay to 10%. */
  learningRate: number;
  /** Traces longer than this many tokens are skipped (the model's context window). */
  maxTokens: number;
  onStep?: (step: number, loss: number, tokensPerSecond: number) => void;
}

export interface PretrainResult {
  steps: number;
  sequences: number;
  trainedTokens: number;
  finalLoss: number;
  seconds: number;
  tokensPerSecond: number;
}

export function learningRateAt(step: number, steps: number, peak: number): number {
  const warmup = Math.max(1, Math.floor(steps * 0.05));
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = (step - warmup) / Math.max(1, steps - warmup);
  return peak * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

function maskTotal(masks: readonly ArrayLike<number>[]): number {
  let sum = 0;
  for (const mask of masks) for (let t = 0; t < mask.length; t++) sum += mask[t]!;
  return sum;
}

export async function pretrain(policy: PolicyBackend, tokenizer: Tokenizer, options: PretrainOptions): Promise<PretrainResult> {
  const focusCount = Math.min(options.copyFocus ?? 0, options.batchSize - 1);
  const plainCount = options.batchSize - focusCount;
  const traces = generateTraces(options.steps * plainCount, options.seed)
    .map((trace) => traceToDatum(trace, tokenizer))
    .filter((datum) => datum.tokens.length <= options.maxTokens);
  const focused =
    focusCount > 0
      ? generateTraces(options.steps * focusCount * 2, options.seed + 1)
          .filter((trace) => trace.kind !== 'direct')
          .map((trace) => copyFocusDatum(trace, tokenizer))
          .filter((datum) => datum.tokens.length <= options.maxTokens)
      : [];
  const copySteps = options.copySteps ?? 0;
  const drills = copyDrills(copySteps * options.batchSize, options.seed, tokenizer);
  const started = performance.now();
  let trainedTokens = 0;
  let loss = NaN;
  const adam: AdamParams = { learningRate: options.learningRate, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01, gradClip: 1 };
  const totalSteps = copySteps + options.steps;
  for (let step = 0; step < totalSteps; step++) {
    const drilling = step < copySteps;
    const traceStep = step - copySteps;
    const batch = drilling
      ? drills.slice(step * options.batchSize, (step + 1) * options.batchSize)
      : traces.slice(traceStep * plainCount, (traceStep + 1) * plainCount);
    const focusBatch = drilling ? [] : focused.slice(traceStep * focusCount, (traceStep + 1) * focusCount);
    if (batch.length === 0) break;
    const targets = maskTotal(batch.map((datum) => datum.lossMask));
    const focusTargets = maskTotal(focusBatch.map((datum) => datum.focus));
    // Without focused digits in this step the plain traces carry the whole loss.
    const plainShare = focusTargets > 0 ? 0.5 : 1;
    const weights = [
      ...batch.map((datum) => Float32Array.from(datum.lossMask, (m) => (plainShare * m) / targets)),
      ...focusBatch.map((datum) => Float32Array.from(datum.focus, (m) => (focusTargets > 0 ? (0.5 * m) / focusTargets : 0))),
    ];
    const data = [...batch, ...focusBatch.map(({ tokens, lossMask }) => ({ tokens, lossMask }))];
    const result = await policy.forwardBackward(data, { kind: 'cross_entropy', weights });
    await policy.optimStep({ ...adam, learningRate: learningRateAt(step, totalSteps, options.learningRate) });
    loss = result.loss;
    for (const datum of data) trainedTokens += datum.tokens.length;
    options.onStep?.(step + 1, loss, trainedTokens / ((performance.now() - started) / 1000));
  }
  const seconds = (performance.now() - started) / 1000;
  return { steps: totalSteps, sequences: Math.min(traces.length, options.steps * options.batchSize), trainedTokens, finalLoss: loss, seconds, tokensPerSecond: trainedTokens / seconds };
}
