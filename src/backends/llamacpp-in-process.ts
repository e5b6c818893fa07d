/**
 * Registration point of the in-process llama.cpp engine (`--engine llamacpp:FILE.gguf`). The factory
 * calls `openLlamaCppEngine`; until the node-llama-cpp engine is plugged in here it refuses clearly.
 */
import { UnsupportedError } from '../core/errors.js';
import type { EngineOptions, OpenedEngine } from './factory.js';

export function openLlamaCppEngine(file: string, _options: EngineOptions): Promise<OpenedEngine> {
  return Promise.reject(
    new UnsupportedError(`--engine llamacpp:${file}: the in-process llama.cpp engine is not built yet; serve the file with llama.cpp's server and use --engine llamacpp-server:URL`),
  );
}
