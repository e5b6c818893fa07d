/** One way to name and open inference engines, trainable policies and interpreters (`--engine`, `--sandbox`). */
export { ENGINE_GRAMMAR, SANDBOX_GRAMMAR, formatEngineSpec, formatSandboxSpec, parseEngineSpec, parseSandboxSpec, type EngineKind, type EngineSpec, type SandboxSpec } from './spec.js';
export { openExecutor, openPolicyBackend, openSamplingEngine, resolveTokenizer, type EngineOptions, type ExecutorOptions, type OpenedEngine, type OpenedPolicy } from './factory.js';
