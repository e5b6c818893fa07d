/**
 * The stop-string rule of the sampling contract (`SamplingParams.stop`), as vLLM applies it: after
 * each new piece of text, look for a stop string that the piece completes. One home for engines
 * that implement stops themselves and for the rollout's heuristic boundary.
 */

/** Where the first stop string ends in `text`, searching only where text from `from` on can complete one; -1 if none. */
export function stopEnd(text: string, stops: readonly string[] | undefined, from: number): { end: number; stop: string | null } {
  let best = { end: -1, stop: null as string | null };
  for (const stop of stops ?? []) {
    if (stop === '') continue;
    const at = text.indexOf(stop, Math.max(0, from - stop.length + 1));
    if (at !== -1 && (best.end === -1 || at + stop.length < best.end)) best = { end: at + stop.length, stop };
  }
  return best;
}
