/**
 * Registration point of the in-process llama.cpp engine (`--engine llamacpp:FILE.gguf`): node-llama-cpp
 * loads the file (with load progress); a `cir export` file gets the char tokenizer and the prompt format
 * it was trained on, any other GGUF model llama.cpp's own tokenizer and the caller's prompt.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import { LlamaCppEngine } from '../engines/llamacpp.js';
import { CHAR_TOKENIZER_NAME } from '../model/export.js';
import { charTokenizer } from '../model/index.js';
import { renderPrompt } from '../tasks/index.js';
import type { EngineOptions, OpenedEngine } from './factory.js';

export async function openLlamaCppEngine(file: string, options: EngineOptions): Promise<OpenedEngine> {
  if (!existsSync(file)) throw new InputError('GGUF file not found (write one with `cir export CHECKPOINT --format gguf --out FILE.gguf`)', file);
  const engine = await LlamaCppEngine.load({
    modelPath: file,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.onLoadProgress ? { onLoadProgress: options.onLoadProgress } : {}),
  });
  const cir = engine.cir;
  if (cir && cir.tokenizer !== CHAR_TOKENIZER_NAME) {
    await engine.close();
    throw new InputError(`this cir export uses tokenizer ${JSON.stringify(cir.tokenizer)}; this build knows ${CHAR_TOKENIZER_NAME}`, file);
  }
  // The only prompt format cir trains with is the generated tasks' one; an export records it, and a file
  // recording another one is refused rather than prompted wrongly.
  const tasksTemplate = renderPrompt({ problem: '{problem}' });
  if (cir && cir.promptTemplate !== tasksTemplate) {
    await engine.close();
    throw new InputError(`this cir export records the prompt format ${JSON.stringify(cir.promptTemplate)}; this build prompts with ${JSON.stringify(tasksTemplate)}`, file);
  }
  const tokenizer = cir ? charTokenizer : engine.tokenizer;
  return {
    spec: { kind: 'llamacpp', file },
    engine,
    tokenizer,
    chatTokenizer: null,
    trainedPromptFormat: cir ? 'tasks' : null,
    description: { engine: `llamacpp:${file}`, name: engine.name, tokenizer: tokenizer.name, wire: 'tokens', contextWindow: engine.contextWindow, ...(cir ? { cirExport: cir } : {}) },
    close: () => engine.close(),
  };
}
