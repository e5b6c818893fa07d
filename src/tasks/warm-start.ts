/**
 * The supervised warm start: trains a policy on generated traces (policy tokens in the loss,
 * prompt and interpreter output masked). Its held-out accuracy is measured by the trainer's own
 * instrument (`evaluateHeldOut` in src/train: the rollout engine and the grader), which `cir
 * pretrain --eval` calls, so warm-start and RL figures are the same quantity; its copying by
 * `probeCopying` here (`cir pretrain --probe`).
 */
import type { AdamParams, PolicyBackend, TrainingDatum } from '../core/policy.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { Rng } from '../core/rng.js';
import { generateTraces, heldOutCodeTraces, type Trace } from './index.js';

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

const NUMBER = /[0-9]+/g;

/**
 * Per target of `traceToDatum(trace)` (same indexing as lossMask), 1 where the target token carries a
 * copied digit: a digit of a number the policy writes that it has already seen, in the problem or in
 * an interpreter output before it — the problem's numbers into its programs, the printed result into
 * \boxed{}. Digits it must produce otherwise (a direct answer, a constant of the family's programs
 * that the problem does not hold) are not copies. These digits are where a small model fails most
 * (it writes gcd(192,167) for gcd(192,176)).
 */
export function copiedDigitTargets(trace: Trace, tokenizer: Tokenizer): Float32Array {
  const seen = new Set(trace.task.problem.match(NUMBER) ?? []);
  const marks: number[] = new Array<number>(tokenizer.encode(trace.prompt).length).fill(0);
  for (const segment of trace.segments) {
    const ids = tokenizer.encode(segment.text);
    if (segment.origin === 'tool') {
      for (const number of segment.text.match(NUMBER) ?? []) seen.add(number);
      marks.push(...ids.map(() => 0));
      continue;
    }
    const copied = new Uint8Array(segment.text.length);
    for (const match of segment.text.matchAll(NUMBER)) if (seen.has(match[0])) copied.fill(1, match.index, match.index + match[0].length);
    for (const [start, end] of tokenSpans(ids, tokenizer)) marks.push(copied.subarray(start, end).includes(1) ? 1 : 0);
  }
  marks.push(0); // the end token
  return Float32Array.from(marks.slice(1));
}

/** Each token's character span in the decoded text (token by token when that decodes the same, else by prefixes). */
function tokenSpans(ids: readonly number[], tokenizer: Tokenizer): [number, number][] {
  const lengths = ids.map((id) => tokenizer.decode([id]).length);
  const oneByOne = lengths.reduce((a, b) => a + b, 0) === tokenizer.decode(ids).length;
  const spans: [number, number][] = [];
  let end = 0;
  for (let i = 0; i < ids.length; i++) {
    const start = end;
    end = oneByOne ? start + lengths[i]! : tokenizer.decode(ids.slice(0, i + 1)).length;
    spans.push([start, end]);
  }
  return spans;
}

/** A trace with its copied digits marked (`focus`): what `--copy-focus` trains and the copy probe reads. */
export function copyFocusDatum(trace: Trace, tokenizer: Tokenizer): TrainingDatum & { focus: Float32Array } {
  return { ...traceToDatum(trace, tokenizer), focus: copiedDigitTargets(trace, tokenizer) };
}

/** Probability above which a teacher-forced copied digit counts as right: the greedy choice for sure. */
const RIGHT_LOGPROB = Math.log(0.5);

export interface CopyProbeResult {
  /** Held-out code traces read (test split, code-helps families, the seed given). */
  traces: number;
  seed: number;
  /** Copied digit tokens in them. */
  digits: number;
  /** Share of copied digit tokens given probability above 1/2 (teacher-forced). */
  accuracy: number;
  /** Mean negative log-likelihood per copied digit token, in nats. */
  nll: number;
  /** Share of traces with every copied digit token above 1/2. */
  allRight: number;
  byFamily: Record<string, { traces: number; accuracy: number; allRight: number }>;
}

/**
 * The copy probe: teacher-forced on `count` code traces of held-out code-helps tasks, how well the
 * policy predicts the digits it must copy (the problem's numbers into the program, the output into
 * \boxed{}). A policy that copies reliably solves these tasks with the interpreter; one that does
 * not writes print(1224*6571) for 1234*5678.
 */
export async function probeCopying(policy: Pick<PolicyBackend, 'forward'>, tokenizer: Tokenizer, options: { traces: number; seed: number; maxTokens: number }): Promise<CopyProbeResult> {
  const marked = heldOutCodeTraces(options.traces, options.seed)
    .map((trace) => ({ trace, datum: copyFocusDatum(trace, tokenizer) }))
    .filter(({ datum }) => datum.tokens.length <= options.maxTokens);
  const traces = marked.map(({ trace }) => trace);
  const data = marked.map(({ datum }) => datum);
  const logprobs = await policy.forward(data);
  let digits = 0;
  let right = 0;
  let nll = 0;
  let tracesRight = 0;
  const families = new Map<string, { traces: number; digits: number; right: number; tracesRight: number }>();
  data.forEach((datum, i) => {
    const family = families.get(traces[i]!.task.family) ?? { traces: 0, digits: 0, right: 0, tracesRight: 0 };
    families.set(traces[i]!.task.family, family);
    let wrong = 0;
    datum.focus.forEach((marked, t) => {
      if (marked !== 1) return;
      const logprob = logprobs[i]![t]!;
      digits++;
      family.digits++;
      nll -= logprob;
      if (logprob > RIGHT_LOGPROB) {
        right++;
        family.right++;
      } else wrong++;
    });
    family.traces++;
    if (wrong === 0) {
      tracesRight++;
      family.tracesRight++;
    }
  });
  const share = (part: number, whole: number) => (whole > 0 ? part / whole : 0);
  return {
    traces: data.length,
    seed: options.seed,
    digits,
    accuracy: share(right, digits),
    nll: share(nll, digits),
    allRight: share(tracesRight, data.length),
    byFamily: Object.fromEntries(
      [...families].sort(([a], [b]) => a.localeCompare(b)).map(([name, f]) => [name, { traces: f.traces, accuracy: share(f.right, f.digits), allRight: share(f.tracesRight, f.traces) }]),
    ),
  };
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
