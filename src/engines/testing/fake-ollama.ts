/**
 * A local stand-in for Ollama's `POST /api/generate`, whose "model" is a script. Shapes and behaviours
 * follow ollama/ollama @ fb30760996871fa9460115c753afd2c60d4ab0f7:
 * - api/types.go: `GenerateRequest` (model, prompt: a string only, raw, stream default true, options map
 *   with num_predict, temperature, top_k, top_p, min_p, seed, stop, …) and `GenerateResponse` (response,
 *   done, done_reason);
 * - server/routes.go `GenerateHandler`: without `raw` the prompt is rendered through the model's template
 *   (here: wrapped in chat markers, so a second template shows); `raw` with template/system/context is a
 *   400; an unknown model is a 404 `{"error": "model \"…\" not found, try pulling it first"}`;
 *   `streamResponse`: one JSON object per line (application/x-ndjson), errors after the first line as an
 *   `{"error": …}` line;
 * - llm/server.go `DoneReason`: "stop" or "length". Stop strings are removed from the text, as the runner does.
 * Test support only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, serveOnLoopback, sleep } from './loopback-server.js';

export interface FakeOllamaRequest {
  body: Record<string, unknown>;
  /** The text the model saw after templating. */
  modelInput: string;
  cancelled: boolean;
}

export interface FakeOllamaOptions {
  model: string;
  /** The model's next text for what it saw. */
  respond: (modelInput: string) => string;
  /** Characters per streamed line (default 4). */
  chunkChars?: number;
  /** Drop the connection after this many characters of request `index`. */
  dropAfter?: (index: number) => number | null;
}

export interface FakeOllamaServer {
  url: string;
  requests: FakeOllamaRequest[];
  close(): Promise<void>;
}

const TEMPLATE = (prompt: string) => `<|im_start|>user\n${prompt}<|im_end|>\n<|im_start|>assistant\n`;

export async function startFakeOllama(options: FakeOllamaOptions): Promise<FakeOllamaServer> {
  const requests: FakeOllamaRequest[] = [];
  const fail = (response: ServerResponse, status: number, error: string): void => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
  };
  const handle = async (incoming: IncomingMessage, response: ServerResponse) => {
    if (incoming.method !== 'POST' || incoming.url !== '/api/generate') return fail(response, 404, '404 page not found');
    const body = JSON.parse(await readBody(incoming)) as Record<string, unknown>;
    if (typeof body['prompt'] !== 'string') return fail(response, 400, 'json: cannot unmarshal array into Go struct field GenerateRequest.prompt of type string');
    if (body['model'] !== options.model) return fail(response, 404, `model "${String(body['model'])}" not found, try pulling it first`);
    if (body['raw'] === true && (body['template'] || body['system'] || body['context'])) return fail(response, 400, 'raw mode does not support template, system, or context');
    const modelInput = body['raw'] === true ? body['prompt'] : TEMPLATE(body['prompt']);
    const record: FakeOllamaRequest = { body, modelInput, cancelled: false };
    const index = requests.length;
    requests.push(record);
    response.on('close', () => {
      if (!response.writableFinished) record.cancelled = true;
    });
    const settings = (body['options'] ?? {}) as Record<string, unknown>;
    const numPredict = typeof settings['num_predict'] === 'number' && settings['num_predict'] >= 0 ? settings['num_predict'] : Infinity;
    const stops = Array.isArray(settings['stop']) ? (settings['stop'] as string[]) : [];
    // A "token" here is a word piece of up to 4 characters: enough to exercise num_predict.
    // A resumed request ends with the start of the turn: the script continues from there.
    const turn = options.respond(modelInput);
    let resumed = 0;
    for (let j = Math.min(modelInput.length, turn.length - 1); j > 0; j -= 1) {
      if (modelInput.endsWith(turn.slice(0, j))) {
        resumed = j;
        break;
      }
    }
    let text = turn.slice(resumed);
    let doneReason = 'stop';
    const pieces = text.match(/.{1,4}/gs) ?? [];
    if (pieces.length > numPredict) {
      text = pieces.slice(0, numPredict).join('');
      doneReason = 'length';
    }
    for (const stop of stops) {
      const at = text.indexOf(stop);
      if (at !== -1) {
        text = text.slice(0, at);
        doneReason = 'stop';
      }
    }
    const stream = body['stream'] !== false;
    if (!stream) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ model: options.model, created_at: new Date().toISOString(), response: text, done: true, done_reason: doneReason }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const size = options.chunkChars ?? 4;
    const drop = options.dropAfter?.(index) ?? null;
    for (let at = 0; at < text.length; at += size) {
      if (record.cancelled) return;
      if (drop !== null && at >= drop) {
        response.socket?.destroy();
        return;
      }
      response.write(`${JSON.stringify({ model: options.model, created_at: new Date().toISOString(), response: text.slice(at, at + size), done: false })}\n`);
      await sleep(1);
    }
    response.end(`${JSON.stringify({ model: options.model, created_at: new Date().toISOString(), response: '', done: true, done_reason: doneReason, eval_count: pieces.length })}\n`);
  };
  const server = await serveOnLoopback(handle, (response, message) => fail(response, 500, message));
  return { ...server, requests };
}
