/** Run directories written for tests: small, deterministic, and full of hostile model output. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Trajectory } from '../../core/trajectory.js';
import { trajectoryStats } from '../metrics.js';
import { resolveSettings } from '../protocol.js';
import { openRun, type SampleRecord } from '../run-store.js';

export const HOSTILE_PROSE = 'Let me think. <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> so';

export function hostileTrajectory(correct: boolean, failing: boolean): Trajectory {
  const code = failing ? 'print(1/0)' : 'print(6*7)';
  const output = failing ? 'ZeroDivisionError: division by zero' : '42';
  return {
    segments: [
      { origin: 'prompt', tokens: [1, 2, 3], text: 'Please solve <b>this</b>: 6*7' },
      { origin: 'policy', tokens: [4, 5, 6, 7], text: `${HOSTILE_PROSE}\n\`\`\`python\n${code}\n\`\`\`` },
      { origin: 'tool', tokens: [8, 9], text: `\n\`\`\`output\n${output}\n\`\`\`\n` },
      { origin: 'policy', tokens: [10, 11, 12], text: `The answer is \\boxed{${correct ? '42' : '<script>41</script>'}}.` },
    ],
    toolCalls: [
      {
        segmentIndex: 1,
        code,
        outcome: failing
          ? { kind: 'error', errorType: 'ZeroDivisionError', message: 'division by zero', lastLine: output, stdout: '', stderr: '', durationMs: 3 }
          : { kind: 'ok', stdout: '42\n', stderr: '', durationMs: 3 },
        feedback: output,
      },
    ],
    status: 'finished',
    infraFailure: false,
  };
}

/** Writes a finished run: `problems` problems × `samples` samples of benchmark `name`; `isCorrect` decides each. */
export function writeFixtureRun(
  options: { name?: string; problems?: number; samples?: number; isCorrect?: (problem: number, sample: number) => boolean; dir?: string } = {},
): string {
  const { name = 'toy', problems = 6, samples = 4 } = options;
  const isCorrect = options.isCorrect ?? ((p, s) => (p + s) % 3 !== 0);
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'cir-eval-fixture-'));
  const settings = resolveSettings('cir-paper', [{ name, spec: name }], { samples });
  const run = openRun(dir, settings, { resume: false, now: () => new Date('2025-01-01T00:00:00Z') });
  for (let p = 0; p < problems; p++) {
    for (let s = 0; s < samples; s++) {
      const correct = isCorrect(p, s);
      const trajectory = hostileTrajectory(correct, s % 2 === 1);
      const record: SampleRecord = {
        benchmark: name,
        problem_id: `p${p}`,
        sample: s,
        correct,
        reference: '42',
        subject: p % 2 === 0 ? 'Algebra' : 'Geometry <script>',
        level: String((p % 3) + 1),
        seed: p * 100 + s,
        verdict: { correct, reason: correct ? 'equivalent' : 'different', extracted: correct ? '42' : '<script>41</script>' },
        stats: trajectoryStats(trajectory),
        trajectory,
        elapsed_ms: 1,
      };
      run.writer.append(record);
    }
  }
  run.writer.close();
  return dir;
}
