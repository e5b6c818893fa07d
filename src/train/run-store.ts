/**
 * A training run on disk: `config.json`, `metrics.jsonl` (one line per step and per evaluation),
 * `state.json` (what `--resume` needs: completed steps, the last checkpoint, evaluations so far,
 * elapsed time) and `checkpoints/`. The state file is replaced atomically after the checkpoint it
 * names is written, so an interrupted run always resumes from a complete checkpoint.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { appendFileSafely, readRegularFile, writeFileSafely } from '../core/files.js';
import { join, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { storedTrainConfig, type TrainConfig } from './config.js';
import type { EvalResult } from './evaluate.js';
import type { ValidationRecord } from './validation.js';

export type EvaluationLabel = 'start' | 'periodic' | 'end';

export interface EvaluationRecord {
  kind: 'eval';
  /** Completed training steps when it ran. */
  step: number;
  label: EvaluationLabel;
  result: EvalResult;
}

export interface StepRecord {
  kind: 'step';
  /** Completed training steps, counting this one (1-based). */
  step: number;
  /** Tool budget K of this step's rollouts. */
  budget: number;
  /** Mean training reward (+1 / −1). */
  reward: number;
  /** Share of this step's rollouts that were correct. */
  trainAccuracy: number;
  toolCallRate: number;
  toolTokenShare: number;
  executionErrorRate: number;
  /** Held-out accuracy when an evaluation followed this step. */
  heldOutAccuracy?: number;
  heldOutCi95?: [number, number];
  /** Validation accuracy per set when a validation followed this step (dataset runs). */
  validation?: Record<string, number>;
  timings: { rolloutMs: number; updateMs: number; evalMs: number; stepMs: number };
  /** Every rollout, data and loss metric (src/rl names). */
  metrics: Record<string, number>;
}

export type MetricsLine = StepRecord | EvaluationRecord | ValidationRecord;

export interface RunState {
  version: 1;
  completedSteps: number;
  /** Where the backend saved the weights after `completedSteps` (null: the initial weights). */
  checkpoint: string | null;
  evaluations: EvaluationRecord[];
  /** Validations of a dataset run so far. */
  validations?: ValidationRecord[];
  /** Wall time of the run so far, summed over sessions. */
  elapsedMs: number;
}

const STATE_VERSION = 1;

export class RunStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  get checkpointDir(): string {
    return join(this.dir, 'checkpoints');
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Starts a fresh run in the directory: earlier metrics, state and checkpoints are removed. */
  reset(): void {
    mkdirSync(this.dir, { recursive: true });
    for (const name of ['metrics.jsonl', 'state.json', 'summary.json', 'report.md', 'report.html']) rmSync(this.path(name), { force: true });
    rmSync(this.checkpointDir, { recursive: true, force: true });
  }

  writeConfig(config: TrainConfig): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSafely(this.path('config.json'), `${JSON.stringify(config, null, 2)}\n`);
  }

  readConfig(): TrainConfig | null {
    return storedTrainConfig(this.readJson<TrainConfig>('config.json'));
  }

  readState(): RunState | null {
    const state = this.readJson<RunState>('state.json');
    if (state && state.version !== STATE_VERSION) {
      throw new InputError(`state version ${String(state.version)}, expected ${STATE_VERSION}; start the run again without --resume`, this.path('state.json'));
    }
    return state;
  }

  writeState(state: RunState): void {
    writeFileSafely(this.path('state.json'), `${JSON.stringify(state)}\n`);
  }

  appendMetrics(line: MetricsLine): void {
    appendFileSafely(this.path('metrics.jsonl'), `${JSON.stringify(line)}\n`);
  }

  readMetrics(): MetricsLine[] {
    const file = this.path('metrics.jsonl');
    if (!existsSync(file)) return [];
    return readRegularFile(file).toString('utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line, index) => {
        try {
          return JSON.parse(line) as MetricsLine;
        } catch (error) {
          throw new InputError(`line ${index + 1} is not JSON`, file, { cause: error });
        }
      });
  }

  /** Keeps the lines a resumed run has already accounted for: steps ≤ `step` and their evaluations. */
  truncateMetrics(step: number, evaluations: readonly EvaluationRecord[], validations: readonly ValidationRecord[] = []): void {
    const kept = this.readMetrics().filter((line) => {
      if (line.kind === 'step') return line.step <= step;
      if (line.kind === 'validation') return validations.some((v) => v.step === line.step && v.label === line.label);
      return evaluations.some((e) => e.step === line.step && e.label === line.label && e.result.tools === line.result.tools);
    });
    writeFileSafely(this.path('metrics.jsonl'), kept.map((line) => `${JSON.stringify(line)}\n`).join(''));
  }

  writeJson(name: string, value: unknown): void {
    writeFileSafely(this.path(name), `${JSON.stringify(value, null, 2)}\n`);
  }

  writeText(name: string, text: string): void {
    writeFileSafely(this.path(name), text);
  }

  private readJson<T>(name: string): T | null {
    const file = this.path(name);
    if (!existsSync(file)) return null;
    try {
      return JSON.parse(readRegularFile(file).toString('utf8')) as T;
    } catch (error) {
      throw new InputError('is not valid JSON', file, { cause: error });
    }
  }
}

