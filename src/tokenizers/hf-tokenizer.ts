/**
 * Hugging Face tokenizers (`tokenizer.json` + `tokenizer_config.json`) behind the project's
 * `Tokenizer` contract, with chat templates rendered by `@huggingface/jinja`.
 */
import { BYTE_LEVEL_DECODER } from '../core/byte-level.js';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Tokenizer as HfTokenizerCore } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import { InputError } from '../core/errors.js';
import type { Tokenizer } from '../core/tokenizer.js';

export interface ChatMessage {
  role: string;
  content: string;
  /** Extra fields some templates read (`reasoning_content`, `tool_calls`, ...). */
  [field: string]: unknown;
}

export interface RenderChatOptions {
  /** Append the assistant header so the model writes the next turn. Default true. */
  addGenerationPrompt?: boolean;
  /** Qwen3's switch; omitted from the template context when undefined. */
  enableThinking?: boolean;
  tools?: readonly unknown[];
  /** Any other template variables. */
  variables?: Record<string, unknown>;
}

export interface HfTokenizerOptions {
  /** Display name; the folder name by default. */
  name?: string;
  /** Overrides the end-of-sequence token (e.g. a base model whose generation config ends on `<|endoftext|>`). */
  eosToken?: string;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `tokenizer_config.json` names tokens either as strings or as `{content: ...}` objects. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value['content'] === 'string') return value['content'];
  return undefined;
}

/** A chat template may be a string or a list of named templates (`default`, `tool_use`). */
function pickTemplate(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.filter(isObject);
    const chosen = named.find((t) => t['name'] === 'default') ?? named[0];
    return chosen && typeof chosen['template'] === 'string' ? chosen['template'] : null;
  }
  return null;
}


export class HfTokenizer implements Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly eosTokenId: number;
  readonly eosToken: string;
  readonly bosToken: string | null;
  /** Literal strings of the special added tokens: text containing them must not be encoded blindly. */
  readonly specialTokens: readonly string[];
  readonly chatTemplate: string | null;
  private readonly core: HfTokenizerCore;
  private compiledTemplate: Template | null = null;
  /** Byte-level BPE (GPT-2 / Qwen / Llama 3): text is the UTF-8 decoding of concatenated token bytes. */
  private readonly byteLevel: boolean;
  private readonly bytesCache = new Map<number, Uint8Array>();
  private readonly addedIds: Set<number>;

  private readonly sourceFiles: Record<string, unknown>;

  constructor(tokenizerJson: unknown, config: unknown, options: HfTokenizerOptions & { chatTemplate?: string | null } = {}) {
    if (!isObject(tokenizerJson) || !isObject(tokenizerJson['model'])) {
      throw new InputError('not a tokenizer.json: the "model" object is missing', 'tokenizer.json');
    }
    const configObject = isObject(config) ? config : {};
    this.core = new HfTokenizerCore(tokenizerJson, configObject);
    this.name = options.name ?? 'hf-tokenizer';
    this.vocabSize = this.core.get_vocab(true).size;
    const eos = options.eosToken ?? tokenContent(configObject['eos_token']);
    if (eos === undefined) throw new InputError('tokenizer_config.json has no eos_token', 'tokenizer_config.json');
    const eosId = this.core.token_to_id(eos);
    if (eosId === undefined) throw new InputError(`eos token ${JSON.stringify(eos)} is not in the vocabulary`, 'tokenizer_config.json');
    this.eosToken = eos;
    this.eosTokenId = eosId;
    this.bosToken = tokenContent(configObject['bos_token']) ?? null;
    this.specialTokens = [...this.core.get_added_tokens_decoder().values()].filter((t) => t.special).map((t) => t.content);
    const decoder = tokenizerJson['decoder'];
    this.byteLevel = isObject(decoder) && decoder['type'] === 'ByteLevel' && configObject['clean_up_tokenization_spaces'] !== true;
    this.addedIds = new Set(this.core.get_added_tokens_decoder().keys());
    this.chatTemplate = options.chatTemplate !== undefined ? options.chatTemplate : pickTemplate(configObject['chat_template']);
    this.sourceFiles = { 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': { ...configObject, ...(this.chatTemplate !== null ? { chat_template: this.chatTemplate } : {}) } };
  }

  /** The two files it was built from (the chat template folded into the config), to hand to another process. */
  files(): Record<string, unknown> {
    return this.sourceFiles;
  }

  encode(text: string): number[] {
    return this.core.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.core.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  /**
   * The raw bytes of a token for byte-level BPE tokenizers (null for others), so callers can decode a
   * stream incrementally with a streaming UTF-8 decoder instead of re-decoding windows.
   */
  tokenBytes(id: number): Uint8Array | null {
    if (!this.byteLevel) return null;
    const cached = this.bytesCache.get(id);
    if (cached) return cached;
    const token = this.core.id_to_token(id);
    if (token === undefined) return null;
    let bytes: Uint8Array;
    if (this.addedIds.has(id)) bytes = new TextEncoder().encode(token);
    else {
      bytes = new Uint8Array(token.length);
      let length = 0;
      for (const char of token) {
        const byte = BYTE_LEVEL_DECODER.get(char);
        if (byte === undefined) return null;
        bytes[length++] = byte;
      }
      bytes = bytes.subarray(0, length);
    }
    this.bytesCache.set(id, bytes);
    return bytes;
  }

  tokenToId(token: string): number | undefined {
    return this.core.token_to_id(token);
  }

  /** Renders messages with the model's chat template (as `apply_chat_template(..., tokenize=False)`). */
  renderChat(messages: readonly ChatMessage[], options: RenderChatOptions = {}): string {
    if (this.chatTemplate === null) {
      throw new InputError(`tokenizer ${this.name} has no chat template`, 'chat_template');
    }
    this.compiledTemplate ??= new Template(this.chatTemplate);
    const context: Record<string, unknown> = {
      ...options.variables,
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? true,
      bos_token: this.bosToken ?? '',
      eos_token: this.eosToken,
    };
    if (options.enableThinking !== undefined) context['enable_thinking'] = options.enableThinking;
    if (options.tools !== undefined) context['tools'] = options.tools;
    try {
      return this.compiledTemplate.render(context);
    } catch (error) {
      // @huggingface/jinja provides raise_exception itself; its errors name the template's complaint.
      throw new InputError(`chat template failed: ${(error as Error).message}`, 'messages', { cause: error });
    }
  }

  /** Chat template rendered and encoded; special-token strings in the template become their ids. */
  encodeChat(messages: readonly ChatMessage[], options: RenderChatOptions = {}): number[] {
    return this.encode(this.renderChat(messages, options));
  }
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read: ${(error as Error).message}`, path, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputError(`not valid JSON: ${(error as Error).message}`, path, { cause: error });
  }
}

/**
 * Loads a tokenizer from a local model folder: `tokenizer.json` (required), `tokenizer_config.json`
 * (required: it names eos and usually holds the chat template) and, when the config has no template,
 * `chat_template.jinja` or `chat_template.json` (newer checkpoints store it there).
 */
export async function loadHfTokenizer(dir: string, options: HfTokenizerOptions = {}): Promise<HfTokenizer> {
  const tokenizerPath = join(dir, 'tokenizer.json');
  const configPath = join(dir, 'tokenizer_config.json');
  if (!existsSync(tokenizerPath)) throw new InputError('no tokenizer.json in this folder', dir);
  if (!existsSync(configPath)) throw new InputError('no tokenizer_config.json in this folder', dir);
  const [tokenizerJson, config] = await Promise.all([readJson(tokenizerPath), readJson(configPath)]);
  let chatTemplate: string | null | undefined;
  if (!isObject(config) || pickTemplate(config['chat_template']) === null) {
    const jinjaPath = join(dir, 'chat_template.jinja');
    const jsonPath = join(dir, 'chat_template.json');
    if (existsSync(jinjaPath)) chatTemplate = await readFile(jinjaPath, 'utf8');
    else if (existsSync(jsonPath)) {
      const value = await readJson(jsonPath);
      chatTemplate = isObject(value) ? pickTemplate(value['chat_template']) : null;
    }
  }
  return new HfTokenizer(tokenizerJson, config, {
    name: options.name ?? basename(dir),
    ...(options.eosToken !== undefined ? { eosToken: options.eosToken } : {}),
    ...(chatTemplate !== undefined ? { chatTemplate } : {}),
  });
}
