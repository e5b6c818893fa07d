/**
 * The prompts every consumer shares (train, eval, the benchmarks, `cir solve`): the CIR instruction and
 * its text-only twin, exact as in RUCAIBox/CIR (cir-reference §4.1, §4.5), the one vocabulary for the two
 * modes, the prompt shapes (raw text or chat messages), and the paper's left truncation of long prompts.
 */
import { InputError } from '../core/errors.js';

/** `code`: the model may write Python that the interpreter runs; `text`: it answers in text alone. */
export type ReasoningMode = 'code' | 'text';

export const REASONING_MODES: readonly ReasoningMode[] = ['code', 'text'];

/** The CIR instruction (cir-reference §4.1), exact; the question follows after one newline. */
export const CIR_INSTRUCTION =
  'Please solve the following problem step by step. During your reasoning process, if needed, you can choose to write python code to enhance your reasoning. The code executor will run your code and provide the execution results back to you to support your reasoning process. Please put the final answer within \\boxed{}.';

/** The text-only counterpart in the same repository (`origin`, cir-reference §4.5). */
export const TEXT_INSTRUCTION = 'Please solve the following problem step by step and put the final answer within \\boxed{}.';

export function instructionFor(mode: ReasoningMode): string {
  return mode === 'code' ? CIR_INSTRUCTION : TEXT_INSTRUCTION;
}

/** The instruction, one newline, the question: the user message of the paper's training and evaluation. */
export function instructedQuestion(question: string, mode: ReasoningMode): string {
  return `${instructionFor(mode)}\n${question}`;
}

/** The question without a leading CIR or text instruction (verl files store the instructed prompt). */
export function stripInstruction(content: string): string {
  for (const instruction of [CIR_INSTRUCTION, TEXT_INSTRUCTION]) {
    if (content.startsWith(`${instruction}\n`)) return content.slice(instruction.length + 1);
  }
  return content;
}

/** `raw`: the prompt text as is (Qwen2.5-Math's evaluation); `chat`: messages through the model's chat template. */
export type PromptFormat = 'raw' | 'chat';

// A type alias, not an interface, so it is assignable to the tokenizer's open-ended message type.
export type ChatMessage = { role: 'system' | 'user'; content: string };

export type RenderedPrompt = { format: 'raw'; text: string } | { format: 'chat'; messages: ChatMessage[] };

/** A system message (when there is one) and a user message: a system turn in chat, or text before the user's in raw. */
export function renderMessages(system: string | undefined, user: string, format: PromptFormat): RenderedPrompt {
  if (format === 'raw') return { format: 'raw', text: system === undefined ? user : `${system}\n\n${user}` };
  return { format: 'chat', messages: [...(system === undefined ? [] : [{ role: 'system' as const, content: system }]), { role: 'user', content: user }] };
}

/**
 * The last `maxTokens` of a prompt, as verl's `truncation='left'` keeps them (cir-reference §8.3: the
 * paper's data loader left-truncates prompts over 1,024 tokens rather than failing).
 */
export function leftTruncate(tokens: readonly number[], maxTokens: number): { tokens: number[]; dropped: number } {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new InputError(`max prompt tokens must be an integer ≥ 1, got ${maxTokens}`, 'maxPromptTokens');
  const dropped = Math.max(0, tokens.length - maxTokens);
  return { tokens: tokens.slice(dropped), dropped };
}
