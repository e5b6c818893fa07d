/** The code-integrated rollout: boundary detection, the tool loop, token-exact trajectories. */
export { findCodeBlock, scanForCodeBlock, countCodeBlocks, pythonStrip, DEFAULT_FENCE_TAGS, BOUNDARY_MODES, HEURISTIC_STOPS, findStopString, outputOpening } from './boundary.js';
export type { CodeBlock, BoundaryScan, FenceOptions, BoundaryMode, StopStringHit } from './boundary.js';
export { RolloutEngine, createRolloutEngine, toolText, encodeUntrusted } from './engine.js';
export type {
  RolloutConfig,
  RolloutSampling,
  RolloutTrajectory,
  RolloutEvent,
  RolloutOptions,
  RolloutStats,
  RolloutCall,
  BudgetPolicy,
  InterpreterMode,
} from './engine.js';
export {
  trajectoryText,
  responseText,
} from './trajectory-tools.js';
export { IncrementalDecoder } from './incremental-decoder.js';
export { ScriptedEngine, type ScriptedEngineOptions, type LatencyModel } from './scripted-engine.js';
