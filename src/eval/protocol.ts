/**
 * Evaluation protocols: the prompt, decoding and tool budget for each benchmark of a run.
 * `cir-paper` reproduces RUCAIBox/CIR `evaluation/run.py` + `eval_qwen_math.sh` (cir-reference §4, §10);
 * every field can be overridden, and the resolved settings are written into the run directory.
 */
import { InputError } from '../core/errors.js';
import { instructionFor, type PromptFormat, type ReasoningMode, type RenderedPrompt } from '../prompts/index.js';
import { BOUNDARY_MODES, type BoundaryMode } from '../rollout/index.js';


export interface DecodingSettings {
  /** Samples per problem (n). */
  samples: number;
  /** 0 means greedy. */
  temperature: number;
  topP: number;
  /** 0 or negative disables top-k. */
  topK: number;
  /** New tokens per generation call (the paper's eval allows this much per call, up to budget+1 calls). */
  maxTokensPerCall: number;
}

export interface BenchmarkSettings extends DecodingSettings {
  /** Benchmark name as recorded in results. */
  name: string;
  /** The spec it was loaded from (built-in name, path or hf: spec). */
  spec: string;
  /** Set for the benchmarks with their own prompts and grading (src/benchmarks): what was used. */
  preset?: PresetSettings;
}

/**
 * A benchmark preset as run: its prompts and grader replace the protocol's template and the math
 * grader; the caveats travel with the run into every report.
 */
export interface PresetSettings {
  /** `minerva`, `olympiadbench`, `gpqa` or `livecodebench`. */
  benchmark: string;
  description: string;
  /** The run's mode, in which the benchmark's own prompts were rendered. */
  promptMode: ReasoningMode;
  /** The benchmark's system message goes first (chat) or before the prompt (raw). */
  systemPrompt: boolean;
  /** Problems whose text must not be written out (GPQA). */
  confidential: boolean;
  /** Explicit opt-in to store the prompt text of a confidential benchmark anyway. */
  storeConfidentialText: boolean;
  /** Attempts at grading when the sandbox (not the program) fails; then the sample is left for --resume. */
  gradeAttempts: number;
  caveats: string[];
  /** LiveCodeBench: per-test limits, and the contest-date window when one was given. */
  judge?: { timeoutMs: number; memoryMb: number };
  window?: { start?: string; end?: string };
}

export interface EvalSettings {
  protocol: string;
  mode: ReasoningMode;
  /** `raw`: the prompt text as is (Qwen2.5-Math); `chat`: one user message through the model's chat template. */
  promptFormat: PromptFormat;
  /** Prompt template; `{question}` is replaced by the problem text. */
  promptTemplate: string;
  /** Executed code blocks per trajectory; 0 in text mode. */
  maxToolCalls: number;
  /** Wall-clock limit per executed block. */
  toolTimeoutMs: number;
  /** Base seed; each sample's seed derives from it, the benchmark, the problem and the sample index. */
  seed: number;
  /** Also accept the last number of the last line (the paper's offline grader); the strict verdict is kept too. */
  lenientGrading: boolean;
  /** Only the first N problems of each benchmark (smoke runs); null for all. */
  problemLimit: number | null;
  /**
   * Where a turn ends to run its code: absent for the precise boundary (the paper's; runs recorded before the
   * field existed had it), `stop-strings` for the stop strings the paper's code used before.
   */
  boundary?: BoundaryMode;
  benchmarks: BenchmarkSettings[];
}

/** Settings the user may override on the command line. Absent fields keep the protocol's value. */
export interface SettingsOverrides {
  mode?: ReasoningMode;
  promptFormat?: PromptFormat;
  promptTemplate?: string;
  maxToolCalls?: number;
  toolTimeoutMs?: number;
  seed?: number;
  lenientGrading?: boolean;
  problemLimit?: number | null;
  samples?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTokensPerCall?: number;
  boundary?: BoundaryMode;
}

const SAMPLED_16: DecodingSettings = { samples: 16, temperature: 1.0, topP: 0.95, topK: -1, maxTokensPerCall: 16384 };
const GREEDY: DecodingSettings = { samples: 1, temperature: 0, topP: 1, topK: -1, maxTokensPerCall: 16384 };

interface Protocol {
  description: string;
  mode: ReasoningMode;
  promptFormat: PromptFormat;
  maxToolCalls: number;
  toolTimeoutMs: number;
  lenientGrading: boolean;
  decodingFor(benchmark: string): DecodingSettings;
}

export const PROTOCOLS: Readonly<Record<string, Protocol>> = {
  'cir-paper': {
    description:
      'RUCAIBox/CIR evaluation: raw CIR prompt, MATH500 greedy, others 16 samples at T=1.0 top-p 0.95, 5 tool calls, 16384 tokens per call, last-number fallback in grading',
    mode: 'code',
    promptFormat: 'raw',
    maxToolCalls: 5,
    toolTimeoutMs: 5000,
    lenientGrading: true,
    decodingFor: (benchmark) => (benchmark === 'math500' ? GREEDY : SAMPLED_16),
  },
  greedy: {
    description: 'one greedy sample per problem, CIR prompt, 5 tool calls, 16384 tokens per call',
    mode: 'code',
    promptFormat: 'raw',
    maxToolCalls: 5,
    toolTimeoutMs: 5000,
    lenientGrading: false,
    decodingFor: () => GREEDY,
  },
};

/** The tool budget a protocol with these overrides resolves to (benchmark prompts state it before settings exist). */
export function toolBudget(protocolName: string, overrides: Pick<SettingsOverrides, 'mode' | 'maxToolCalls'> = {}): number {
  const protocol = PROTOCOLS[protocolName];
  if (protocol === undefined) {
    throw new InputError(`unknown protocol (known: ${Object.keys(PROTOCOLS).join(', ')})`, protocolName);
  }
  return overrides.maxToolCalls ?? ((overrides.mode ?? protocol.mode) === 'text' ? 0 : protocol.maxToolCalls);
}

/** Resolves a protocol for the given benchmarks and applies overrides; validates every number. */
export function resolveSettings(
  protocolName: string,
  benchmarks: readonly { name: string; spec: string }[],
  overrides: SettingsOverrides = {},
): EvalSettings {
  const protocol = PROTOCOLS[protocolName];
  if (protocol === undefined) {
    throw new InputError(`unknown protocol (known: ${Object.keys(PROTOCOLS).join(', ')})`, protocolName);
  }
  const mode = overrides.mode ?? protocol.mode;
  const maxToolCalls = toolBudget(protocolName, overrides);
  const settings: EvalSettings = {
    protocol: protocolName,
    mode,
    promptFormat: overrides.promptFormat ?? protocol.promptFormat,
    promptTemplate: overrides.promptTemplate ?? `${instructionFor(mode)}\n{question}`,
    maxToolCalls,
    toolTimeoutMs: overrides.toolTimeoutMs ?? protocol.toolTimeoutMs,
    seed: overrides.seed ?? 42,
    lenientGrading: overrides.lenientGrading ?? protocol.lenientGrading,
    problemLimit: overrides.problemLimit ?? null,
    ...(overrides.boundary !== undefined && overrides.boundary !== 'precise' ? { boundary: overrides.boundary } : {}),
    benchmarks: benchmarks.map(({ name, spec }) => {
      const base = protocol.decodingFor(name);
      return {
        name,
        spec,
        samples: overrides.samples ?? base.samples,
        temperature: overrides.temperature ?? base.temperature,
        topP: overrides.topP ?? base.topP,
        topK: overrides.topK ?? base.topK,
        maxTokensPerCall: overrides.maxTokensPerCall ?? base.maxTokensPerCall,
      };
    }),
  };
  validateSettings(settings);
  return settings;
}

export function validateSettings(settings: EvalSettings): void {
  const check = (ok: boolean, field: string, value: unknown, rule: string): void => {
    if (!ok) throw new InputError(`${field} ${rule}, got ${JSON.stringify(value)}`, field);
  };
  check(settings.mode === 'code' || settings.mode === 'text', 'mode', settings.mode, 'must be code or text');
  check(settings.promptFormat === 'raw' || settings.promptFormat === 'chat', 'prompt format', settings.promptFormat, 'must be raw or chat');
  check(settings.promptTemplate.includes('{question}'), 'prompt template', settings.promptTemplate, 'must contain {question}');
  check(settings.boundary === undefined || BOUNDARY_MODES.includes(settings.boundary), 'boundary', settings.boundary, `must be one of ${BOUNDARY_MODES.join(', ')}`);
  check(Number.isInteger(settings.maxToolCalls) && settings.maxToolCalls >= 0, 'max tool calls', settings.maxToolCalls, 'must be an integer ≥ 0');
  check(settings.mode === 'code' || settings.maxToolCalls === 0, 'max tool calls', settings.maxToolCalls, 'must be 0 in text mode');
  check(settings.toolTimeoutMs > 0, 'tool timeout', settings.toolTimeoutMs, 'must be > 0');
  check(Number.isInteger(settings.seed), 'seed', settings.seed, 'must be an integer');
  check(settings.problemLimit === null || (Number.isInteger(settings.problemLimit) && settings.problemLimit >= 1), 'problem limit', settings.problemLimit, 'must be an integer ≥ 1');
  const names = new Set<string>();
  for (const b of settings.benchmarks) {
    check(!names.has(b.name), 'benchmark', b.name, 'appears twice');
    names.add(b.name);
    check(Number.isInteger(b.samples) && b.samples >= 1, `${b.name} samples`, b.samples, 'must be an integer ≥ 1');
    check(b.temperature >= 0, `${b.name} temperature`, b.temperature, 'must be ≥ 0');
    check(b.topP > 0 && b.topP <= 1, `${b.name} top-p`, b.topP, 'must be in (0, 1]');
    check(Number.isInteger(b.topK), `${b.name} top-k`, b.topK, 'must be an integer');
    check(Number.isInteger(b.maxTokensPerCall) && b.maxTokensPerCall >= 1, `${b.name} max tokens`, b.maxTokensPerCall, 'must be an integer ≥ 1');
  }
}

/** The prompt for one problem. Multiple-choice options, when present, follow the question as `A. …` lines. */
export function renderPrompt(problem: { problem: string; choices?: string[] }, settings: Pick<EvalSettings, 'promptFormat' | 'promptTemplate'>): RenderedPrompt {
  let question = problem.problem;
  if (problem.choices && problem.choices.length > 0) {
    const options = problem.choices.map((choice, i) => `${String.fromCharCode(65 + i)}. ${choice}`);
    question = `${question}\n\nOptions:\n${options.join('\n')}`;
  }
  // split/join rather than replace(): a `$` in the problem must not be read as a replacement pattern.
  const content = settings.promptTemplate.split('{question}').join(question);
  return settings.promptFormat === 'raw' ? { format: 'raw', text: content } : { format: 'chat', messages: [{ role: 'user', content }] };
}

/** A stable 32-bit seed for one sample, so resumed runs sample exactly as uninterrupted ones would. */
export function sampleSeed(baseSeed: number, benchmark: string, problemId: string, sample: number): number {
  let hash = 2166136261 ^ baseSeed;
  for (const ch of `${benchmark}\u0000${problemId}\u0000${sample}`) {
    hash ^= ch.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 16777619);
  }
  return hash >>> 0;
}
