/**
 * The embedded model in standard formats, so a policy trained here runs in llama.cpp, vLLM or
 * transformers: a GGUF file (llama architecture, float32) and a Hugging Face folder
 * (`LlamaForCausalLM`). Both carry the character vocabulary as a byte-level BPE vocabulary without
 * merges, so every engine maps ASCII text to exactly the ids `CharTokenizer` gives, and both record the
 * prompt format the model was trained on and its context window.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { byteLevelChar } from '../core/byte-level.js';
import { InputError } from '../core/errors.js';
import type { CheckpointContents } from './checkpoint.js';
import { headDim, parameterLayout, toHfConfig, type ModelConfig } from './config.js';
import { encodeGguf, GgufType, type GgufEntry, type GgufTensor } from './gguf.js';
import { encodeSafetensors } from './safetensors.js';
import { EOS_TEXT, EOS_TOKEN_ID } from './tokenizer.js';

/** Marks a file or folder written by `cir export`; read back by the llama.cpp engine and the importer. */
export const EXPORT_FORMAT = 'cir-export';
export const EXPORT_VERSION = 1;
export const CHAR_TOKENIZER_NAME = 'cir-char-ascii';
/** The placeholder for the problem text in a prompt template. */
export const PROBLEM_PLACEHOLDER = '{problem}';

export interface ExportOptions {
  /** How a problem becomes the model's prompt, with `{problem}` where the problem goes (`Q: {problem}\nA: `). */
  promptTemplate: string;
  /** Shown as the model's name by the engines that load it. */
  name?: string;
}

function checkTemplate(template: string): [prefix: string, suffix: string] {
  const parts = template.split(PROBLEM_PLACEHOLDER);
  if (parts.length !== 2) throw new InputError(`prompt template must contain ${PROBLEM_PLACEHOLDER} exactly once`, 'prompt template');
  return [parts[0]!, parts[1]!];
}

/**
 * Token i of the character vocabulary as a byte-level BPE token: id 0 is `<|endoftext|>`, id c
 * (1..127) is byte c in GPT-2's byte-level alphabet (space → `Ġ`, newline → `Ċ`).
 */
export function charVocabularyTokens(vocabSize: number): string[] {
  const tokens: string[] = [];
  for (let id = 0; id < vocabSize; id++) tokens.push(id === EOS_TOKEN_ID ? EOS_TEXT : byteLevelChar(id));
  return tokens;
}

/**
 * A Jinja chat template rendering the training format: a user message becomes the prompt template with
 * the message as the problem; an assistant message is its text and the end token (the trained trace).
 * Other roles were never trained and are refused.
 */
export function chatTemplateFor(promptTemplate: string): string {
  const [prefix, suffix] = checkTemplate(promptTemplate);
  const literal = (text: string) => JSON.stringify(text);
  return (
    "{%- for message in messages -%}" +
    `{%- if message['role'] == 'user' -%}{{ ${literal(prefix)} + message['content'] + ${literal(suffix)} }}` +
    `{%- elif message['role'] == 'assistant' -%}{{ message['content'] + ${literal(EOS_TEXT)} }}` +
    "{%- else -%}{{ raise_exception('this model was trained on user and assistant turns only') }}" +
    '{%- endif -%}{%- endfor -%}'
  );
}

/**
 * llama.cpp's llama architecture rotates adjacent pairs (dims 2i, 2i+1); Hugging Face Llama and the
 * embedded model rotate dims i and i + hd/2. Reordering the rows of q_proj and k_proj per head makes the
 * two equal — the permutation llama.cpp's converter applies (ggml-org/llama.cpp convert_hf_to_gguf.py,
 * LlamaModel.permute, at a458664fc83b6513baea7adafcb0ef0626b006f8).
 */
export function interleaveRotaryRows(weight: Float32Array, heads: number, hd: number, columns: number): Float32Array {
  const out = new Float32Array(weight.length);
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h * hd + j * half + i) * columns;
        const to = (h * hd + 2 * i + j) * columns;
        out.set(weight.subarray(from, from + columns), to);
      }
    }
  }
  return out;
}

/** GGUF tensor names of llama.cpp's llama architecture (gguf-py/gguf/constants.py, MODEL_TENSOR names). */
function ggufTensors(config: ModelConfig, params: Float32Array): GgufTensor[] {
  const layout = parameterLayout(config);
  const hd = headDim(config);
  const C = config.hiddenSize;
  const view = (spec: { offset: number; size: number }) => params.subarray(spec.offset, spec.offset + spec.size);
  const tensors: GgufTensor[] = [{ name: 'token_embd.weight', shape: layout.embed.shape, data: view(layout.embed) }];
  layout.layers.forEach((layer, l) => {
    const b = `blk.${l}`;
    tensors.push(
      { name: `${b}.attn_norm.weight`, shape: layer.inputNorm.shape, data: view(layer.inputNorm) },
      { name: `${b}.attn_q.weight`, shape: layer.qProj.shape, data: interleaveRotaryRows(view(layer.qProj), config.numHeads, hd, C) },
      { name: `${b}.attn_k.weight`, shape: layer.kProj.shape, data: interleaveRotaryRows(view(layer.kProj), config.numKvHeads, hd, C) },
      { name: `${b}.attn_v.weight`, shape: layer.vProj.shape, data: view(layer.vProj) },
      { name: `${b}.attn_output.weight`, shape: layer.oProj.shape, data: view(layer.oProj) },
      { name: `${b}.ffn_norm.weight`, shape: layer.postNorm.shape, data: view(layer.postNorm) },
      { name: `${b}.ffn_gate.weight`, shape: layer.gateProj.shape, data: view(layer.gateProj) },
      { name: `${b}.ffn_up.weight`, shape: layer.upProj.shape, data: view(layer.upProj) },
      { name: `${b}.ffn_down.weight`, shape: layer.downProj.shape, data: view(layer.downProj) },
    );
  });
  tensors.push({ name: 'output_norm.weight', shape: layout.finalNorm.shape, data: view(layout.finalNorm) });
  tensors.push({ name: 'output.weight', shape: layout.lmHead.shape, data: view(layout.lmHead) });
  return tensors;
}

/** Metadata keys as llama.cpp reads them (gguf-py/gguf/constants.py `Keys`, llama-vocab.cpp `load`). */
export function ggufMetadata(config: ModelConfig, options: ExportOptions): GgufEntry[] {
  checkTemplate(options.promptTemplate);
  const u32 = (key: string, value: number): GgufEntry => ({ key, type: GgufType.UINT32, value });
  const f32 = (key: string, value: number): GgufEntry => ({ key, type: GgufType.FLOAT32, value });
  const str = (key: string, value: string): GgufEntry => ({ key, type: GgufType.STRING, value });
  const tokens = charVocabularyTokens(config.vocabSize);
  return [
    str('general.architecture', 'llama'),
    str('general.name', options.name ?? 'cir embedded policy'),
    u32('general.file_type', 0), // all float32
    u32('general.alignment', 32),
    u32('llama.context_length', config.contextLength),
    u32('llama.embedding_length', config.hiddenSize),
    u32('llama.block_count', config.numLayers),
    u32('llama.feed_forward_length', config.intermediateSize),
    u32('llama.attention.head_count', config.numHeads),
    u32('llama.attention.head_count_kv', config.numKvHeads),
    u32('llama.rope.dimension_count', headDim(config)),
    f32('llama.rope.freq_base', config.ropeTheta),
    f32('llama.attention.layer_norm_rms_epsilon', config.rmsNormEps),
    u32('llama.vocab_size', config.vocabSize),
    // A byte-level BPE vocabulary with no merges tokenizes text one byte per token. The pre-tokenizer
    // only splits words, which cannot matter without merges; "qwen2" is one whose detokenizer does not
    // "clean up" spaces before punctuation (llama-vocab.cpp sets clean_spaces=false for it), so text
    // round-trips exactly.
    str('tokenizer.ggml.model', 'gpt2'),
    str('tokenizer.ggml.pre', 'qwen2'),
    { key: 'tokenizer.ggml.tokens', type: GgufType.ARRAY, itemType: GgufType.STRING, value: tokens },
    // llama_token_type: 1 normal, 3 control
    { key: 'tokenizer.ggml.token_type', type: GgufType.ARRAY, itemType: GgufType.INT32, value: tokens.map((_, id) => (id === EOS_TOKEN_ID ? 3 : 1)) },
    { key: 'tokenizer.ggml.merges', type: GgufType.ARRAY, itemType: GgufType.STRING, value: [] },
    u32('tokenizer.ggml.bos_token_id', EOS_TOKEN_ID),
    u32('tokenizer.ggml.eos_token_id', EOS_TOKEN_ID),
    u32('tokenizer.ggml.padding_token_id', EOS_TOKEN_ID),
    { key: 'tokenizer.ggml.add_bos_token', type: GgufType.BOOL, value: false },
    { key: 'tokenizer.ggml.add_eos_token', type: GgufType.BOOL, value: false },
    str('tokenizer.chat_template', chatTemplateFor(options.promptTemplate)),
    str('cir.format', EXPORT_FORMAT),
    u32('cir.version', EXPORT_VERSION),
    str('cir.tokenizer', CHAR_TOKENIZER_NAME),
    str('cir.prompt_template', options.promptTemplate),
  ];
}

export function exportGguf(contents: CheckpointContents, outFile: string, options: ExportOptions): string {
  writeFileSync(outFile, encodeGguf(ggufMetadata(contents.config, options), ggufTensors(contents.config, contents.params)));
  return outFile;
}

/** tokenizer.json for the character vocabulary: byte-level BPE without merges or regex splitting. */
export function hfTokenizerJson(vocabSize: number): Record<string, unknown> {
  const tokens = charVocabularyTokens(vocabSize);
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: EOS_TOKEN_ID, content: EOS_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(tokens.map((token, id) => [token, id])),
      merges: [],
    },
  };
}

/** Writes config.json, model.safetensors, tokenizer.json, tokenizer_config.json, generation_config.json. */
export function exportHf(contents: CheckpointContents, outDir: string, options: ExportOptions): string {
  const { config, params } = contents;
  checkTemplate(options.promptTemplate);
  mkdirSync(outDir, { recursive: true });
  const layout = parameterLayout(config);
  const tensors = layout.tensors.map((spec) => ({ name: spec.name, shape: spec.shape, data: params.subarray(spec.offset, spec.offset + spec.size) }));
  // transformers' safetensors loader expects the "format": "pt" metadata.
  writeFileSync(join(outDir, 'model.safetensors'), encodeSafetensors(tensors, { format: 'pt' }));
  const cir = { format: EXPORT_FORMAT, version: EXPORT_VERSION, tokenizer: CHAR_TOKENIZER_NAME, prompt_template: options.promptTemplate, context_window: config.contextLength, trained: contents.info };
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  writeFileSync(
    join(outDir, 'config.json'),
    json({
      ...toHfConfig(config),
      head_dim: headDim(config),
      mlp_bias: false,
      rope_scaling: null,
      bos_token_id: EOS_TOKEN_ID,
      eos_token_id: EOS_TOKEN_ID,
      pad_token_id: EOS_TOKEN_ID,
      use_cache: true,
      cir,
    }),
  );
  writeFileSync(join(outDir, 'tokenizer.json'), json(hfTokenizerJson(config.vocabSize)));
  writeFileSync(
    join(outDir, 'tokenizer_config.json'),
    json({
      tokenizer_class: 'PreTrainedTokenizerFast',
      added_tokens_decoder: { [String(EOS_TOKEN_ID)]: { content: EOS_TEXT, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true } },
      bos_token: null,
      eos_token: EOS_TEXT,
      pad_token: EOS_TEXT,
      unk_token: null,
      add_bos_token: false,
      add_eos_token: false,
      clean_up_tokenization_spaces: false,
      model_max_length: config.contextLength,
      chat_template: chatTemplateFor(options.promptTemplate),
      cir: { prompt_template: options.promptTemplate, context_window: config.contextLength },
    }),
  );
  // Plain ancestral sampling at temperature 1, as cir samples: a server that applies this file's
  // defaults then samples the distribution whose log-probabilities it reports.
  writeFileSync(
    join(outDir, 'generation_config.json'),
    json({ bos_token_id: EOS_TOKEN_ID, eos_token_id: EOS_TOKEN_ID, pad_token_id: EOS_TOKEN_ID, do_sample: true, temperature: 1.0, top_p: 1.0, top_k: 0, max_length: config.contextLength }),
  );
  return outDir;
}
