/**
 * A code-integrated trajectory: the token-exact record of prompt, model output and tool output.
 * The token ids are the truth; text is derived for display. The loss mask follows from the
 * segment origins: policy tokens 1, everything else 0.
 */
import type { ExecutionOutcome } from './execution.js';

export type SegmentOrigin = 'prompt' | 'policy' | 'tool';

export interface Segment {
  origin: SegmentOrigin;
  tokens: number[];
  /** Sampling log-probabilities, policy segments only, when the engine returned them. */
  logprobs?: number[];
  /** Display text of `tokens`. */
  text: string;
}

export interface ToolCall {
  /** Index into `Trajectory.segments` of the policy segment that wrote the code. */
  segmentIndex: number;
  code: string;
  outcome: ExecutionOutcome;
  /** The exact text shown to the model. */
  feedback: string;
}

export type TrajectoryStatus = 'finished' | 'budget_exhausted' | 'length' | 'context' | 'error';

export interface Trajectory {
  segments: Segment[];
  toolCalls: ToolCall[];
  status: TrajectoryStatus;
  /** Why the trajectory failed, when `status` is `error`. */
  error?: string;
  /** True when an infrastructure failure (sandbox or model server) touched it: keep it out of the gradient. */
  infraFailure: boolean;
}
