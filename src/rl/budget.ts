/**
 * The tool budget K (executed code blocks per trajectory) as a function of the training step.
 * The paper raised K 2 → 3 → 4 at steps 100 and 200 of a ~300-step run (Figure 3); its code had
 * no schedule (RUCAIBox/CIR run.sh takes one fixed `max_call_time`; restarts from checkpoints must
 * have done it). Here the schedule is data.
 */
import { InputError } from '../core/errors.js';

export interface BudgetStage {
  /** First training step (0-based) of this stage. */
  fromStep: number;
  budget: number;
}

export type BudgetSchedule = { kind: 'fixed'; budget: number } | { kind: 'progressive'; stages: BudgetStage[] };

export function fixedBudgetSchedule(budget: number): BudgetSchedule {
  const schedule: BudgetSchedule = { kind: 'fixed', budget };
  validateBudgetSchedule(schedule);
  return schedule;
}

/**
 * The paper's 2 → 3 → 4 with its boundaries (100 and 200 of 300) scaled to a run of `totalSteps`:
 * K = 2 before round(N/3), 3 before round(2N/3), then 4.
 */
export function paperBudgetSchedule(totalSteps: number, budgets: readonly number[] = [2, 3, 4]): BudgetSchedule {
  if (!Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new InputError(`totalSteps must be a positive integer, got ${totalSteps}`, 'totalSteps');
  }
  if (budgets.length === 0) throw new InputError('budgets must not be empty', 'budgets');
  const schedule: BudgetSchedule = {
    kind: 'progressive',
    stages: budgets.map((budget, index) => ({ fromStep: Math.round((index * totalSteps) / budgets.length), budget })),
  };
  validateBudgetSchedule(schedule);
  return schedule;
}

export function validateBudgetSchedule(schedule: BudgetSchedule): void {
  const checkBudget = (budget: number, name: string) => {
    if (!Number.isInteger(budget) || budget < 0) throw new InputError(`${name} must be a non-negative integer, got ${budget}`, name);
  };
  if (schedule.kind === 'fixed') {
    checkBudget(schedule.budget, 'budget');
    return;
  }
  if (schedule.stages.length === 0) throw new InputError('a progressive budget schedule needs at least one stage', 'budget.stages');
  if (schedule.stages[0]!.fromStep !== 0) {
    throw new InputError(`the first budget stage must start at step 0, got ${schedule.stages[0]!.fromStep}`, 'budget.stages');
  }
  schedule.stages.forEach((stage, index) => {
    checkBudget(stage.budget, `budget.stages[${index}].budget`);
    const previous = schedule.stages[index - 1];
    if (!Number.isInteger(stage.fromStep) || (previous !== undefined && stage.fromStep < previous.fromStep)) {
      throw new InputError(`budget.stages[${index}].fromStep must be an integer not before the previous stage, got ${stage.fromStep}`, 'budget.stages');
    }
  });
}

/** K at a 0-based training step: the last stage that has started (a later stage wins a tie). */
export function budgetAt(step: number, schedule: BudgetSchedule): number {
  if (!Number.isInteger(step) || step < 0) throw new InputError(`step must be a non-negative integer, got ${step}`, 'step');
  if (schedule.kind === 'fixed') return schedule.budget;
  let budget = schedule.stages[0]!.budget;
  for (const stage of schedule.stages) if (stage.fromStep <= step) budget = stage.budget;
  return budget;
}

/**
 * The budgets switching at absolute steps: `switchSteps[i]` completed steps start `budgets[i + 1]`.
 * The paper (Figure 3) switches 2 → 3 → 4 after steps 100 and 200, whatever the run's length.
 */
export function switchingBudgetSchedule(budgets: readonly number[], switchSteps: readonly number[]): BudgetSchedule {
  if (budgets.length !== switchSteps.length + 1) {
    throw new InputError(`${budgets.length} budgets need ${budgets.length - 1} switch steps, got ${switchSteps.length}`, 'budget.switchSteps');
  }
  switchSteps.forEach((step, index) => {
    if (!Number.isInteger(step) || step < 1 || (index > 0 && step <= switchSteps[index - 1]!)) {
      throw new InputError(`switch steps must be increasing integers ≥ 1, got ${switchSteps.join(', ')}`, 'budget.switchSteps');
    }
  });
  const schedule: BudgetSchedule = { kind: 'progressive', stages: budgets.map((budget, index) => ({ fromStep: index === 0 ? 0 : switchSteps[index - 1]!, budget })) };
  validateBudgetSchedule(schedule);
  return schedule;
}
