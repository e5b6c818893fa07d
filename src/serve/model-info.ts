/**
 * `GET /cir/v1/model_info`: what a client needs to talk to this server without being told, behind the
 * same auth as every route: the served model's name, context window, prompt format (`tasks`: the
 * embedded model's trained `Q: … A: ` format; `chat`: its tokenizer's chat template; `raw`: plain text)
 * and its tokenizer as Hugging Face files. The client side is src/engines/served-model.ts.
 */
export const MODEL_INFO_PATH = '/cir/v1/model_info';

export type ServedPromptFormat = 'tasks' | 'chat' | 'raw';

export interface ModelInfoWire {
  object: 'cir.model_info';
  model: string;
  context_window: number;
  prompt_format: ServedPromptFormat;
  eos_token_id: number;
  vocab_size: number;
  tokenizer: { name: string; files: Record<string, unknown> };
}

/** What the server states about its model; the files are `tokenizer.json` and `tokenizer_config.json`. */
export interface ServedModelDescription {
  promptFormat: ServedPromptFormat;
  tokenizerFiles: Record<string, unknown>;
}

export function modelInfoResponse(
  description: ServedModelDescription,
  context: { modelName: string; contextWindow: number; tokenizer: { name: string; eosTokenId: number; vocabSize: number } },
): ModelInfoWire {
  return {
    object: 'cir.model_info',
    model: context.modelName,
    context_window: context.contextWindow,
    prompt_format: description.promptFormat,
    eos_token_id: context.tokenizer.eosTokenId,
    vocab_size: context.tokenizer.vocabSize,
    tokenizer: { name: context.tokenizer.name, files: description.tokenizerFiles },
  };
}
