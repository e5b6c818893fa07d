/** The RL algorithms as pure functions: the surface `src/train` and `src/eval` import. */
export {
  advantageEstimatorNames,
  computeAdvantages,
  getAdvantageEstimator,
  groupIndices,
  maskedWhiten,
  registerAdvantageEstimator,
  type AdvantageEstimator,
  type AdvantageInput,
  type AdvantageOptions,
} from './advantages.js';
export {
  aggregationWeights,
  assertLossAggregationMode,
  LOSS_AGGREGATION_MODES,
  type AggregationOptions,
  type LossAggregationMode,
} from './aggregation.js';
export { balancedMicroBatches, logprobMismatch, scaleTokenLoss } from './micro-batches.js';
export { budgetAt, fixedBudgetSchedule, paperBudgetSchedule, switchingBudgetSchedule, validateBudgetSchedule, type BudgetSchedule, type BudgetStage } from './budget.js';
export { PAPER_RL_CONFIG, validateRlConfig, type RlConfig, type RolloutSettings } from './config.js';
export {
  assembleBatch,
  checkDatumAlignment,
  fillMissingLogprobs,
  trajectoryToDatum,
  type AssembledBatch,
  type AssembledDatum,
  type DatumOptions,
  type ScoredTrajectory,
} from './data.js';
export { filterUniformRewardGroups, type GroupFilterResult } from './dynamic-sampling.js';
export { rewardMean, rolloutMetrics, type RolloutMetricItem } from './metrics.js';
export {
  CLIP_REGION,
  entropyTerm,
  getPolicyLoss,
  KL_ESTIMATORS,
  klPenalty,
  policyLossNames,
  registerPolicyLoss,
  type ClipConfig,
  type KlEstimator,
  type PolicyLossFn,
  type PolicyLossInput,
  type PolicyLossTerms,
} from './policy-losses.js';
export { miniBatchIndices, prepareStep, selectLossBatchRows, selectRows, type PreparedStep } from './step.js';
export {
  buildTokenLoss,
  computeRlLoss,
  PAPER_LOSS_CONFIG,
  validateLossConfig,
  type LossConfig,
  type RlLossResult,
  type TokenLossBatch,
} from './token-loss.js';
