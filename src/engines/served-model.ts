/**
 * The client side of `cir serve`'s `GET /cir/v1/model_info` (src/serve/model-info.ts): the served
 * model's tokenizer, context window and prompt format, so a client needs no `--tokenizer` against it.
 * A server without the route (vLLM, SGLang, Tinker) answers 404: then the caller needs a tokenizer.
 */
import { EngineRequestError } from './http-retry.js';
import { HfTokenizer } from '../tokenizers/index.js';

export interface ServedModel {
  model: string;
  contextWindow: number;
  promptFormat: 'tasks' | 'chat' | 'raw';
  tokenizer: HfTokenizer;
}

/** The server root of an address: `http://h:p/v1` and `http://h:p/` both give `http://h:p`. */
export function serverRoot(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/** The served model's description, or null when the server has no such route (404). */
export async function fetchServedModel(url: string, options: { apiKey?: string; fetch?: typeof fetch; signal?: AbortSignal } = {}): Promise<ServedModel | null> {
  const address = `${serverRoot(url)}/cir/v1/model_info`;
  const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(address, { headers, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    throw new EngineRequestError(`cannot reach ${address}: ${error instanceof Error ? error.message : String(error)}`, 'connection', address, null, false);
  }
  if (response.status === 404) return null;
  if (!response.ok) throw new EngineRequestError(`${address} answered ${response.status}`, 'http', address, response.status, false);
  const body = (await response.json()) as Record<string, unknown>;
  const tokenizer = body['tokenizer'] as { name?: unknown; files?: Record<string, unknown> } | undefined;
  const format = body['prompt_format'];
  if (typeof body['model'] !== 'string' || typeof body['context_window'] !== 'number' || !tokenizer?.files || (format !== 'tasks' && format !== 'chat' && format !== 'raw')) {
    throw new EngineRequestError(`${address} did not describe a model (model, context_window, prompt_format, tokenizer.files)`, 'protocol', address, response.status, false);
  }
  return {
    model: body['model'],
    contextWindow: body['context_window'],
    promptFormat: format,
    tokenizer: new HfTokenizer(tokenizer.files['tokenizer.json'], tokenizer.files['tokenizer_config.json'], { name: typeof tokenizer.name === 'string' ? tokenizer.name : body['model'] }),
  };
}
