/** `cir export CHECKPOINT --format gguf|hf --out PATH`: the embedded model in llama.cpp's or Hugging Face's format. */
import { existsSync, statSync } from 'node:fs';
import { loadCheckpoint } from '../../model/checkpoint.js';
import { exportGguf, exportHf } from '../../model/export.js';
import { renderPrompt } from '../../tasks/index.js';
import { parseCommandLine, UsageError, type Command } from '../command.js';

const help = `Usage: cir export CHECKPOINT --format gguf|hf --out PATH [--name NAME] [--json]

Writes an embedded-model checkpoint (a cir checkpoint folder, e.g. assets/checkpoints/warm-start, or a
Llama-layout Hugging Face folder it can load) in a standard format:

  --format gguf   one GGUF file (llama architecture, float32) for llama.cpp, Ollama and
                  --engine llamacpp:FILE.gguf
  --format hf     a Hugging Face folder for transformers and vLLM: config.json (LlamaForCausalLM),
                  model.safetensors, tokenizer.json, tokenizer_config.json (its chat template renders
                  the prompt the model was trained on), generation_config.json

Both carry the 128-character vocabulary as a byte-level BPE vocabulary without merges (ASCII text gets
exactly cir's token ids in llama.cpp, transformers and tokenizers) and record the prompt format
("Q: {problem}\\nA: ") and the context window; cir solve / cir eval prompt such a model that way.

Options:
  --format gguf|hf   required
  --out PATH         the .gguf file, or the folder (created) for hf
  --name NAME        model name stored in the file (default "cir embedded policy")
  --json             print {"format","out","parameters","context_window","prompt_template"}`;

export const exportCommand: Command = {
  name: 'export',
  summary: 'write the embedded model as a GGUF file or a Hugging Face folder',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { format: { type: 'string' }, out: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('give exactly one CHECKPOINT folder');
    const format = values.format;
    if (format !== 'gguf' && format !== 'hf') throw new UsageError('--format must be gguf or hf');
    if (!values.out) throw new UsageError('--out PATH is required');
    if (format === 'gguf' && existsSync(values.out) && statSync(values.out).isDirectory()) throw new UsageError(`--out ${values.out} is a folder; give the .gguf file to write`);
    if (format === 'hf' && existsSync(values.out) && !statSync(values.out).isDirectory()) throw new UsageError(`--out ${values.out} is a file; give the folder to write`);
    const contents = loadCheckpoint(positionals[0]!);
    const promptTemplate = renderPrompt({ problem: '{problem}' });
    const options = { promptTemplate, ...(values.name !== undefined ? { name: values.name } : {}) };
    const out = format === 'gguf' ? exportGguf(contents, values.out, options) : exportHf(contents, values.out, options);
    const summary = { format, out, parameters: contents.params.length, context_window: contents.config.contextLength, prompt_template: promptTemplate };
    process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : `wrote ${out} (${format}, ${summary.parameters.toLocaleString('en-US')} parameters, context ${summary.context_window} tokens)\n`);
    return 0;
  },
};
