/**
 * `--tensorboard DIR`: the run's step and evaluation records as TensorBoard scalars, beside
 * metrics.jsonl. Tags: `train/…` for a step's figures (its `metrics` and `timings` nested below),
 * `eval/tools/…` and `eval/no-tools/…` for held-out evaluations, `val/SET/…` for validation sets (with
 * the budget they ran at), each at the step it ran after.
 */
import { scalarsOf, TensorBoardWriter } from '../tracking/tensorboard.js';
import type { TrainEvent } from './loop.js';

export interface TrainTracker {
  onEvent(event: TrainEvent): void;
  close(): void;
}

export function tensorboardTracker(dir: string): TrainTracker {
  const writer = TensorBoardWriter.open(dir);
  return {
    onEvent(event) {
      if (event.type === 'step') {
        const { kind: _kind, step, heldOutCi95: _ci, ...figures } = event.record;
        writer.scalars(step, scalarsOf(figures, 'train'));
      } else if (event.type === 'evaluation') {
        const { step, result } = event.record;
        const { byFamily: _byFamily, ...figures } = result;
        writer.scalars(step, scalarsOf(figures, `eval/${result.tools ? 'tools' : 'no-tools'}`));
      } else if (event.type === 'validation') {
        const { step, budget, sets } = event.record;
        writer.scalars(step, [['val/budget', budget], ...scalarsOf(sets, 'val')]);
      }
    },
    close: () => writer.close(),
  };
}
