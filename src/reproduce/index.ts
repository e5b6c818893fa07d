/** `cir reproduce`: the paper's five findings at CPU scale, with verdicts (docs/train.md#reproduce). */
export { reproduce, type Finding, type OpenedPolicy, type PassAtKCondition, type ReproduceDeps, type ReproduceEvent, type Reproduction } from './run.js';
export { estimateSeconds, planReproduction, type ReproducePlan } from './plan.js';
export { combineVerdicts, curveKs, largestDrop, largestDropDifference, pairedPassAtKDifference, passAtKCurve, shareDifference, shareOf, verdictOf, type Verdict } from './findings.js';
