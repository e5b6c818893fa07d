/**
 * Problem sets below train and eval: benchmark-style JSONL, verl-layout Parquet and Hub files, the
 * built-in benchmark names, and the preset benchmarks with their own prompts and grading.
 */
export {
  BUILTIN_BENCHMARKS,
  HUB_SHORTCUTS,
  loadBenchmark,
  loadBenchmarkFile,
  parseHubSpec,
  parseJsonl,
  resolveDataDir,
  type Benchmark,
  type LoadOptions,
  type Problem,
} from './load.js';
export { loadPreset, PRESET_NAMES, presetTarget, type HubContext, type PresetOptions, type PresetTarget } from './presets.js';
