/**
 * Text views of a token-exact trajectory, for display and grading. The training datum is built by
 * `rl/data.ts` (`trajectoryToDatum`), the one builder the trainer uses.
 */
import type { Trajectory } from '../core/trajectory.js';

/** The whole text: prompt, model output and tool output. */
export function trajectoryText(trajectory: Trajectory): string {
  return trajectory.segments.map((segment) => segment.text).join('');
}

/** Everything after the prompt (what the paper calls the response). */
export function responseText(trajectory: Trajectory): string {
  return trajectory.segments
    .filter((segment) => segment.origin !== 'prompt')
    .map((segment) => segment.text)
    .join('');
}
