/**
 * A local stand-in for llama.cpp's server, native API only (`POST /completion`, `GET /props`), whose
 * "model" is a script. Shapes and behaviours follow the upstream source:
 * - request fields and defaults: ggml-org/llama.cpp tools/server/server-task.cpp @ 00efb3e184262872916bf136b3df63c1822a19bd
 *   (`params_from_json_cmpl`: n_predict, return_tokens, n_probs, post_sampling_probs, stop, …);
 * - answers: the same file (`server_task_result_cmpl_final::to_json_non_oaicompat`: content, tokens, stop,
 *   stop_type "eos"|"word"|"limit", stopping_word, tokens_predicted, completion_probabilities entries
 *   {id, token, bytes, logprob, top_logprobs}; `..._partial::to_json_non_oaicompat`: stop false, the one
 *   new token, its probability);
 * - streaming rules: tools/server/server-context.cpp (`process_token`: every sampled id is kept for the
 *   final answer, but a token that leaves an incomplete UTF-8 character is not streamed and gets no
 *   probability; `send_final_response`: in stream mode the final event has empty content and tokens,
 *   and without streaming the probabilities of a stop word's tokens are trimmed); the native stream
 *   has no `[DONE]` line.
 * Test support only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, serveOnLoopback, sleep } from './loopback-server.js';
import type { Tokenizer } from '../../core/tokenizer.js';
import { overlap } from '../../core/token-overlap.js';

export interface FakeLlamaCppRequest {
  body: Record<string, unknown>;
  promptTokens: number[];
  /** Tokens sampled before the client went away or the answer ended. */
  generated: number;
  cancelled: boolean;
}

export interface FakeLlamaCppOptions {
  tokenizer: Tokenizer;
  /** The model's next turn for this prompt (end-of-generation appended). */
  respond: (promptText: string) => string;
  contextSize?: number;
  /** Per-request fault: answer with this status, or drop the connection after N streamed tokens. */
  fault?: (request: FakeLlamaCppRequest, index: number) => { kind: 'status'; status: number } | { kind: 'drop'; afterTokens: number } | null;
  /** False: an old server that ignores return_tokens (tokens stay empty). */
  returnsTokens?: boolean;
}

export interface FakeLlamaCppServer {
  url: string;
  requests: FakeLlamaCppRequest[];
  close(): Promise<void>;
}

/** A deterministic stand-in for the model's log-probability of a token. */
export const fakeLlamaLogprob = (id: number, position: number) => -0.05 * (1 + ((id + position) % 5));

export async function startFakeLlamaCpp(options: FakeLlamaCppOptions): Promise<FakeLlamaCppServer> {
  const { tokenizer } = options;
  const requests: FakeLlamaCppRequest[] = [];
  const error = (response: ServerResponse, status: number, message: string): void => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: status, message, type: status === 400 ? 'invalid_request_error' : 'server_error' } }));
  };

  const handle = async (incoming: IncomingMessage, response: ServerResponse) => {
    if (incoming.method === 'GET' && incoming.url === '/props') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ default_generation_settings: { n_ctx: options.contextSize ?? 8192 }, total_slots: 1 }));
      return;
    }
    if (incoming.method !== 'POST' || incoming.url !== '/completion') return error(response, 404, 'File Not Found');
    const body = JSON.parse(await readBody(incoming)) as Record<string, unknown>;
    const prompt = body['prompt'];
    const promptTokens = Array.isArray(prompt) ? (prompt as number[]) : tokenizer.encode(String(prompt));
    const record: FakeLlamaCppRequest = { body, promptTokens, generated: 0, cancelled: false };
    const index = requests.length;
    requests.push(record);
    response.on('close', () => {
      if (!response.writableFinished) record.cancelled = true;
    });
    const fault = options.fault?.(record, index) ?? null;
    if (fault?.kind === 'status') return error(response, fault.status, 'injected failure');

    const turn = [...tokenizer.encode(options.respond(tokenizer.decode(promptTokens))), tokenizer.eosTokenId];
    const planned = turn.slice(overlap(promptTokens, turn));
    const nPredict = typeof body['n_predict'] === 'number' ? body['n_predict'] : -1;
    const stops = Array.isArray(body['stop']) ? (body['stop'] as string[]) : [];
    const returnTokens = body['return_tokens'] === true && options.returnsTokens !== false;
    const nProbs = typeof body['n_probs'] === 'number' ? body['n_probs'] : 0;
    const stream = body['stream'] === true;

    const tokens: number[] = [];
    const probs: { id: number; logprob: number }[] = [];
    let text = '';
    let sent = 0;
    let stopType = 'limit';
    let stoppingWord = '';
    if (stream) response.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const id of planned) {
      if (nPredict >= 0 && tokens.length >= nPredict) break;
      if (record.cancelled) return;
      if (stream && fault?.kind === 'drop' && tokens.length >= fault.afterTokens) {
        response.socket?.destroy();
        return;
      }
      tokens.push(id);
      record.generated = tokens.length;
      const eog = id === tokenizer.eosTokenId;
      const generated = tokenizer.decode(tokens, { skipSpecialTokens: true });
      const incomplete = generated.endsWith('\uFFFD');
      if (incomplete) continue; // neither streamed nor given a probability
      probs.push({ id, logprob: fakeLlamaLogprob(id, tokens.length - 1) });
      let piece = generated.slice(text.length);
      const word = stops.find((stop) => generated.includes(stop, Math.max(0, sent - stop.length)));
      if (word !== undefined) {
        piece = generated.slice(text.length, generated.indexOf(word, Math.max(0, sent - word.length)));
        stopType = 'word';
        stoppingWord = word;
      }
      text += piece;
      sent = generated.length;
      if (stream) {
        const partial = {
          index: 0,
          content: piece,
          tokens: returnTokens ? [id] : [],
          stop: false,
          id_slot: 0,
          tokens_predicted: tokens.length,
          tokens_evaluated: promptTokens.length,
          ...(nProbs > 0 ? { completion_probabilities: [{ id, token: tokenizer.decode([id]), bytes: [], logprob: fakeLlamaLogprob(id, tokens.length - 1), top_logprobs: [] }] } : {}),
        };
        response.write(`data: ${JSON.stringify(partial)}\n\n`);
        await sleep(1);
      }
      if (word !== undefined) break;
      if (eog) {
        stopType = 'eos';
        break;
      }
    }
    const final: Record<string, unknown> = {
      index: 0,
      content: stream ? '' : text,
      tokens: stream || !returnTokens ? [] : tokens,
      id_slot: 0,
      stop: true,
      model: 'fake.gguf',
      tokens_predicted: tokens.length,
      tokens_evaluated: promptTokens.length,
      stop_type: stopType,
      stopping_word: stoppingWord,
    };
    if (!stream && nProbs > 0) {
      const trim = stopType === 'word' ? Math.min(probs.length, tokenizer.encode(stoppingWord).length) : 0;
      final['completion_probabilities'] = probs.slice(0, probs.length - trim).map((p) => ({ ...p, token: tokenizer.decode([p.id]), bytes: [], top_logprobs: [] }));
    }
    if (stream) response.end(`data: ${JSON.stringify(final)}\n\n`);
    else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(final));
  };

  const server = await serveOnLoopback(handle, (response, message) => error(response, 500, message));
  return { ...server, requests };
}
