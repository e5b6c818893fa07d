import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetAt, fixedBudgetSchedule, paperBudgetSchedule, validateBudgetSchedule } from './budget.js';

test('the paper schedule at 300 steps: 2 until step 99, 3 until 199, then 4', () => {
  const schedule = paperBudgetSchedule(300);
  assert.deepEqual(schedule, { kind: 'progressive', stages: [{ fromStep: 0, budget: 2 }, { fromStep: 100, budget: 3 }, { fromStep: 200, budget: 4 }] });
  assert.deepEqual([0, 99, 100, 199, 200, 299, 1000].map((step) => budgetAt(step, schedule)), [2, 2, 3, 3, 4, 4, 4]);
});

test('scaled to short runs: 30 steps → boundaries 10/20; 10 steps → round(3.33)=3 and round(6.67)=7', () => {
  assert.deepEqual([9, 10, 19, 20].map((step) => budgetAt(step, paperBudgetSchedule(30))), [2, 3, 3, 4]);
  const ten = paperBudgetSchedule(10);
  assert.deepEqual(Array.from({ length: 10 }, (_, step) => budgetAt(step, ten)), [2, 2, 2, 3, 3, 3, 3, 4, 4, 4]);
  // One step: boundaries round(1/3)=0 and round(2/3)=1 → step 0 is already in stage 2 (K=3): later stage wins a tie.
  assert.equal(budgetAt(0, paperBudgetSchedule(1)), 3);
});

test('fixed schedule and validation', () => {
  assert.equal(budgetAt(123, fixedBudgetSchedule(4)), 4);
  assert.throws(() => fixedBudgetSchedule(-1), /budget must be a non-negative integer/);
  assert.throws(() => paperBudgetSchedule(0), /totalSteps must be a positive integer/);
  assert.throws(() => validateBudgetSchedule({ kind: 'progressive', stages: [{ fromStep: 5, budget: 2 }] }), /must start at step 0/);
  assert.throws(
    () => validateBudgetSchedule({ kind: 'progressive', stages: [{ fromStep: 0, budget: 2 }, { fromStep: 10, budget: 3 }, { fromStep: 5, budget: 4 }] }),
    /stages\[2\]\.fromStep/,
  );
  assert.throws(() => budgetAt(-1, fixedBudgetSchedule(2)), /step must be a non-negative integer/);
});
