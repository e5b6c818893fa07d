/** The RL trainer: the loop, held-out evaluation, run directory, summary, report and ablations. */
export {
  OUTPUT_ONLY_FLAGS,
  cirPaperConfig,
  defaultTrainConfig,
  recipeConfig,
  validateTrainConfig,
  DEFAULT_LEARNING_RATE,
  DEFAULT_TOTAL_STEPS,
  PAPER_BUDGET_SWITCH_STEPS,
  PAPER_BUDGETS,
  PLAIN_PROMPT,
  RECIPES,
  type EvalSettings,
  type PromptSettings,
  type RecipeName,
  type TrainConfig,
  type TrainData,
  type ValidationSettings,
} from './config.js';
export { runTraining, trainStep, type TrainerDeps, type TrainEvent, type TrainOptions, type TrainResult } from './loop.js';
export { evaluateHeldOut, type AccuracyFigure, type EvalResult, type EvaluateOptions, type FamilyFigure } from './evaluate.js';
export { rolloutGroups, type GradedTrajectory, type GroupRolloutOptions, type RolloutDeps } from './rollouts.js';
export { heldOutTasks, promptsForStep, trainingPool } from './problems.js';
export { encodePrompt, epochBatch, loadTrainingData, overlapKey, type DatasetProblem, type PromptEncoder, type TrainingData, type TrainingProblem, type ValidationSet } from './data.js';
export { RunStore, type EvaluationRecord, type MetricsLine, type RunState, type StepRecord } from './run-store.js';
export { buildSummary, summarizeEvaluation, type RunSummary, type SummaryEvaluation } from './summary.js';
export { renderHtml, renderMarkdown, renderPlots } from './report.js';
export { accuracyInterval, intervalsDisjoint } from './stats.js';
export { deriveSeed, SEED_PURPOSE } from './seeds.js';
export { ABLATIONS, ablationRow, ablationTable, finalBudget, findAblation, readBaseline, type Ablation, type AblationArm, type AblationRow } from './ablation.js';
export { planRun, type RunPlan } from './plan.js';
export { validate, type ValidationFigure, type ValidationRecord } from './validation.js';
export { buildDatasetSummary, renderDatasetMarkdown, type DatasetRunSummary } from './summary.js';
export { tensorboardTracker, type TrainTracker } from './tracking.js';
