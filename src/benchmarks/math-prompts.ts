/**
 * Prompts for the math-style benchmarks. Code-integrated mode uses the CIR paper's instruction
 * (cir-reference §4.1, exact); direct mode uses the same repository's text-only `origin` template.
 */
import type { PromptMode } from './types.js';

export const CIR_INSTRUCTION =
  'Please solve the following problem step by step. During your reasoning process, if needed, you can choose to write python code to enhance your reasoning. The code executor will run your code and provide the execution results back to you to support your reasoning process. Please put the final answer within \\boxed{}.';

export const DIRECT_INSTRUCTION = 'Please solve the following problem step by step and put the final answer within \\boxed{}.';

export function mathPrompt(question: string, mode: PromptMode): string {
  return `${mode === 'code-integrated' ? CIR_INSTRUCTION : DIRECT_INSTRUCTION}\n${question}`;
}
