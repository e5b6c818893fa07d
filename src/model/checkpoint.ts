/**
 * Checkpoint directories: `model.safetensors` (Hugging Face tensor names), `config.json` (a Hugging
 * Face Llama config plus a `cir` block with the format magic and version), and optionally
 * `optimizer.safetensors` (AdamW moments). Loading checks the magic and version and says how to
 * regenerate the checkpoint when they do not match.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { writeFileSafely } from '../core/files.js';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { fromHfConfig, parameterLayout, toHfConfig, type ModelConfig } from './config.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.js';
import { EXPORT_FORMAT } from './export.js';
import { importHfLlama } from './hf-import.js';

export const CHECKPOINT_MAGIC = 'cir-embedded-checkpoint';
export const CHECKPOINT_VERSION = 1;
export const REGENERATE_HINT = 'regenerate it with `cir pretrain` (see docs/model.md)';

export interface CheckpointContents {
  config: ModelConfig;
  params: Float32Array;
  optimizer?: { m: Float32Array; v: Float32Array; step: number };
  /** Free-form facts recorded at save time (training steps, data seed, ...). */
  info: Record<string, unknown>;
}

export function saveCheckpoint(dir: string, contents: CheckpointContents): string {
  mkdirSync(dir, { recursive: true });
  const layout = parameterLayout(contents.config);
  const tensors: NamedTensor[] = layout.tensors.map((spec) => ({
    name: spec.name,
    shape: spec.shape,
    data: contents.params.subarray(spec.offset, spec.offset + spec.size),
  }));
  const metadata = { format: CHECKPOINT_MAGIC, version: String(CHECKPOINT_VERSION) };
  writeFileSafely(join(dir, 'model.safetensors'), encodeSafetensors(tensors, metadata));
  const config = { ...toHfConfig(contents.config), cir: { format: CHECKPOINT_MAGIC, version: CHECKPOINT_VERSION, tokenizer: 'cir-char-ascii', ...contents.info } };
  writeFileSafely(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  if (contents.optimizer) {
    const { m, v, step } = contents.optimizer;
    writeFileSafely(
      join(dir, 'optimizer.safetensors'),
      encodeSafetensors(
        [
          { name: 'adamw.exp_avg', shape: [m.length], data: m },
          { name: 'adamw.exp_avg_sq', shape: [v.length], data: v },
        ],
        { ...metadata, step: String(step) },
      ),
    );
  }
  return dir;
}

function checkFormat(found: { format?: unknown; version?: unknown }, file: string): void {
  if (found.format !== CHECKPOINT_MAGIC) {
    throw new InputError(`not a cir embedded-model checkpoint (format ${JSON.stringify(found.format)}, expected ${JSON.stringify(CHECKPOINT_MAGIC)}); ${REGENERATE_HINT}`, file);
  }
  if (Number(found.version) !== CHECKPOINT_VERSION) {
    throw new InputError(`checkpoint format version ${String(found.version)}, this build reads version ${CHECKPOINT_VERSION}; ${REGENERATE_HINT}`, file);
  }
}

/** `path` is a checkpoint directory or its model.safetensors file. */
export function loadCheckpoint(path: string): CheckpointContents {
  const dir = existsSync(path) && statSync(path).isFile() ? join(path, '..') : path;
  const configFile = join(dir, 'config.json');
  const modelFile = join(dir, 'model.safetensors');
  if (!existsSync(configFile)) {
    throw new InputError(`no checkpoint here: expected config.json and model.safetensors; ${REGENERATE_HINT}`, dir);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new InputError('config.json is not valid JSON', configFile, { cause: error });
  }
  const cirBlock = json['cir'] as { format?: unknown } | undefined;
  // A Hugging Face Llama folder (no cir block, or one written by `cir export --format hf`) loads through the importer.
  if (!cirBlock || cirBlock.format === EXPORT_FORMAT) return importHfLlama(dir);
  checkFormat((json['cir'] ?? {}) as { format?: unknown; version?: unknown }, configFile);
  if (!existsSync(modelFile)) throw new InputError(`no model.safetensors next to config.json; ${REGENERATE_HINT}`, dir);
  const config = fromHfConfig(json, configFile);
  const { tensors, metadata } = decodeSafetensors(readFileSync(modelFile), modelFile);
  checkFormat(metadata, modelFile);
  const layout = parameterLayout(config);
  // Every tensor config.json implies is checked against the file before the parameters are
  // allocated: a config claiming a huge model cannot make us allocate more than the file holds.
  for (const spec of layout.tensors) {
    const tensor = tensors.get(spec.name);
    if (!tensor) throw new InputError(`tensor ${spec.name} is missing; ${REGENERATE_HINT}`, modelFile);
    if (tensor.shape.join('x') !== spec.shape.join('x')) {
      throw new InputError(`tensor ${spec.name} has shape [${tensor.shape.join(', ')}], config.json implies [${spec.shape.join(', ')}]`, modelFile);
    }
  }
  const params = new Float32Array(layout.totalSize);
  for (const spec of layout.tensors) params.set((tensors.get(spec.name) as NamedTensor).data, spec.offset);
  const info = { ...((json['cir'] ?? {}) as Record<string, unknown>) };
  const contents: CheckpointContents = { config, params, info };
  const optimizerFile = join(dir, 'optimizer.safetensors');
  if (existsSync(optimizerFile)) {
    const optimizer = decodeSafetensors(readFileSync(optimizerFile), optimizerFile);
    const m = optimizer.tensors.get('adamw.exp_avg');
    const v = optimizer.tensors.get('adamw.exp_avg_sq');
    if (m && v && m.data.length === params.length && v.data.length === params.length) {
      contents.optimizer = { m: m.data, v: v.data, step: Number(optimizer.metadata['step'] ?? 0) };
    } else throw new InputError(`optimizer state does not match the model's ${params.length} parameters`, optimizerFile);
  }
  return contents;
}
