/**
 * A local HTTP server that speaks `/v1/completions` as vLLM does (vllm-project/vllm
 * vllm/entrypoints/openai/protocol.py and serving_completion.py): id or text
 * prompts, `return_token_ids`, `logprobs`, stop strings / stop ids / EOS with vLLM's finish and stop
 * reasons, SSE streaming ending in `[DONE]`. Its "model" is a script, and faults can be injected per
 * request: HTTP errors, hangs, dropped connections, truncated or stalled streams, error events.
 * Test support for the engine and rollout integration tests; never used in production paths.
 *
 * Response shapes by flavour, from the servers' own sources:
 * - vllm: vllm-project/vllm vllm/entrypoints/openai/completion/protocol.py @ d5dba2d7b0ab9b98096560c69db7126b54b14d79
 *   (`CompletionResponseChoice` / `CompletionResponseStreamChoice`: text, logprobs{tokens, token_logprobs},
 *   finish_reason, stop_reason, token_ids; `return_tokens_as_token_ids` names log-prob tokens "token_id:N";
 *   `include_stop_str_in_output` keeps the stop string).
 * - sglang: sgl-project/sglang python/sglang/srt/entrypoints/openai/protocol.py @ 004c82e07d876f6e4a0ad6e15325706b0f478f1a
 *   (the stop cause is `matched_stop`, there is no `stop_reason`; `no_stop_trim` keeps the stop string and
 *   `include_stop_str_in_output` is not a field; `token_ids` only under `return_token_ids`).
 * - llamacpp-oai: ggml-org/llama.cpp tools/server/server-task.cpp @ 00efb3e184262872916bf136b3df63c1822a19bd
 *   (`to_json_oaicompat`: text, index, logprobs, finish_reason and nothing else: no ids, whatever is asked).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, serveOnLoopback, sleep } from './loopback-server.js';
import type { Tokenizer } from '../../core/tokenizer.js';
import { overlap } from '../../core/token-overlap.js';

export type FakeFault =
  | { kind: 'status'; status: number; retryAfter?: string; message?: string }
  | { kind: 'hang' }
  | { kind: 'drop'; afterTokens: number }
  | { kind: 'truncate'; afterTokens: number }
  | { kind: 'stall'; afterTokens: number }
  | { kind: 'stream-error'; afterTokens: number; status: number };

export interface FakeRequest {
  index: number;
  body: Record<string, unknown>;
  promptTokens: number[];
  promptText: string;
  /** Tokens written to the wire (streaming), to check that a client's disconnect stopped generation. */
  tokensSent: number;
  plannedTokens: number;
  /** The client went away before the response was complete. */
  cancelled: boolean;
}

export interface FakeVllmOptions {
  tokenizer: Tokenizer;
  /** The model's next turn for this prompt text (EOS is appended). */
  respond: (request: FakeRequest) => string;
  fault?: (request: FakeRequest) => FakeFault | null;
  chunkTokens?: number;
  /** Milliseconds between stream chunks (default 1), so a disconnect lands mid-generation. */
  chunkDelayMs?: number;
  /** False: a server without id support (rejects id prompts, ignores return_token_ids), like Ollama. */
  tokenIds?: boolean;
  /** Whose response shape to speak (default vllm). */
  flavour?: 'vllm' | 'sglang' | 'llamacpp-oai';
}

export interface FakeVllmServer {
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

interface PlannedChoice {
  tokens: number[];
  text: string;
  finishReason: 'stop' | 'length';
  stopReason: string | number | null;
}

const fakeLogprob = (id: number) => -0.01 * (1 + (id % 7));

function plan(options: FakeVllmOptions, request: FakeRequest): PlannedChoice {
  const { tokenizer } = options;
  const body = request.body;
  const full = [...tokenizer.encode(options.respond(request)), tokenizer.eosTokenId];
  const planned = full.slice(overlap(request.promptTokens, full));
  const maxTokens = typeof body['max_tokens'] === 'number' ? body['max_tokens'] : 16;
  const stops = Array.isArray(body['stop']) ? (body['stop'] as string[]) : typeof body['stop'] === 'string' ? [body['stop']] : [];
  const stopIds = Array.isArray(body['stop_token_ids']) ? (body['stop_token_ids'] as number[]) : [];
  const includeStop = (options.flavour === 'sglang' ? body['no_stop_trim'] : body['include_stop_str_in_output']) === true;
  const tokens: number[] = [];
  for (const id of planned) {
    if (tokens.length >= maxTokens) return { tokens, text: tokenizer.decode(tokens, { skipSpecialTokens: true }), finishReason: 'length', stopReason: null };
    tokens.push(id);
    if (id === tokenizer.eosTokenId) return { tokens, text: tokenizer.decode(tokens, { skipSpecialTokens: true }), finishReason: 'stop', stopReason: null };
    if (stopIds.includes(id)) return { tokens, text: tokenizer.decode(tokens, { skipSpecialTokens: true }), finishReason: 'stop', stopReason: id };
    const text = tokenizer.decode(tokens, { skipSpecialTokens: true });
    for (const stop of stops) {
      const at = text.indexOf(stop);
      if (at !== -1) return { tokens, text: includeStop ? text.slice(0, at + stop.length) : text.slice(0, at), finishReason: 'stop', stopReason: stop };
    }
  }
  return { tokens, text: tokenizer.decode(tokens, { skipSpecialTokens: true }), finishReason: 'length', stopReason: null };
}

function logprobsField(options: FakeVllmOptions, body: Record<string, unknown>, tokens: number[]) {
  if (body['logprobs'] === null || body['logprobs'] === undefined || options.flavour === 'llamacpp-oai') return null;
  const asIds = body['return_tokens_as_token_ids'] === true && (options.flavour ?? 'vllm') === 'vllm';
  return {
    tokens: tokens.map((id) => (asIds ? `token_id:${id}` : options.tokenizer.decode([id]))),
    token_logprobs: tokens.map(fakeLogprob),
    top_logprobs: null,
  };
}

export async function startFakeVllm(options: FakeVllmOptions): Promise<FakeVllmServer> {
  const requests: FakeRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const withIds = options.tokenIds ?? true;

  const handle = async (incoming: IncomingMessage, response: ServerResponse) => {
    if (incoming.method !== 'POST' || incoming.url !== '/v1/completions') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', code: 404 } }));
      return;
    }
    const body = JSON.parse(await readBody(incoming)) as Record<string, unknown>;
    const prompt = body['prompt'];
    if (Array.isArray(prompt) && !withIds) {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'prompt must be a string', code: 400 } }));
      return;
    }
    const promptTokens = Array.isArray(prompt) ? (prompt as number[]) : options.tokenizer.encode(String(prompt));
    const record: FakeRequest = {
      index: requests.length,
      body,
      promptTokens,
      promptText: Array.isArray(prompt) ? options.tokenizer.decode(promptTokens) : String(prompt),
      tokensSent: 0,
      plannedTokens: 0,
      cancelled: false,
    };
    requests.push(record);
    response.on('close', () => {
      if (!response.writableFinished) record.cancelled = true;
    });
    const fault = options.fault?.(record) ?? null;
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      response.writeHead(fault.status, headers).end(JSON.stringify({ error: { message: fault.message ?? 'injected failure', type: 'InternalServerError', code: fault.status } }));
      return;
    }
    if (fault?.kind === 'hang') {
      hanging.add(response);
      return;
    }
    const n = typeof body['n'] === 'number' ? body['n'] : 1;
    const choice = plan(options, record);
    record.plannedTokens = choice.tokens.length;
    const returnIds = withIds && body['return_token_ids'] === true && options.flavour !== 'llamacpp-oai';
    const stopField = (reason: string | number | null) => {
      if (options.flavour === 'llamacpp-oai') return {};
      return options.flavour === 'sglang' ? { matched_stop: reason } : { stop_reason: reason };
    };

    if (body['stream'] !== true) {
      const choices = Array.from({ length: n }, (_, index) => ({
        index,
        text: choice.text,
        logprobs: logprobsField(options, body, choice.tokens),
        finish_reason: choice.finishReason,
        ...stopField(choice.stopReason),
        ...(returnIds ? { token_ids: choice.tokens, prompt_token_ids: promptTokens } : {}),
      }));
      const payload = JSON.stringify({ id: `cmpl-${record.index}`, object: 'text_completion', model: body['model'], choices });
      if (fault?.kind === 'drop') {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(payload.length) });
        response.write(payload.slice(0, Math.floor(payload.length / 2)));
        await sleep(5);
        response.socket?.destroy();
        return;
      }
      record.tokensSent = choice.tokens.length;
      response.writeHead(200, { 'content-type': 'application/json' }).end(payload);
      return;
    }

    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const size = options.chunkTokens ?? 3;
    let sentText = '';
    for (let start = 0; start < choice.tokens.length; start += size) {
      if (record.cancelled || response.destroyed) return;
      if (fault && 'afterTokens' in fault && start >= fault.afterTokens) {
        if (fault.kind === 'drop') response.socket?.destroy();
        else if (fault.kind === 'truncate') response.end();
        else if (fault.kind === 'stall') hanging.add(response);
        else if (fault.kind === 'stream-error') response.end(`data: ${JSON.stringify({ error: { message: 'injected stream error', code: fault.status } })}\n\n`);
        return;
      }
      const piece = choice.tokens.slice(start, start + size);
      const last = start + size >= choice.tokens.length;
      const textSoFar = last ? choice.text : options.tokenizer.decode(choice.tokens.slice(0, start + size), { skipSpecialTokens: true });
      const delta = textSoFar.startsWith(sentText) ? textSoFar.slice(sentText.length) : '';
      sentText += delta;
      const event = {
        id: `cmpl-${record.index}`,
        object: 'text_completion',
        choices: [
          {
            index: 0,
            text: delta,
            logprobs: logprobsField(options, body, piece),
            finish_reason: last ? choice.finishReason : null,
            ...stopField(last ? choice.stopReason : null),
            ...(returnIds ? { token_ids: piece } : {}),
          },
        ],
      };
      response.write(`data: ${JSON.stringify(event)}\n\n`);
      record.tokensSent += piece.length;
      await sleep(options.chunkDelayMs ?? 1);
    }
    response.end('data: [DONE]\n\n');
  };

  const server = await serveOnLoopback(
    handle,
    (response, message) => response.writeHead(500).end(JSON.stringify({ error: { message, code: 500 } })),
    () => {
      for (const response of hanging) response.destroy();
    },
  );
  return { ...server, requests };
}
