/** Shared set-up for the serve tests and the serve benchmark: a bigram backend behind a real server. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { charTokenizer, type CharTokenizer } from '../../model/tokenizer.js';
import { BigramPolicy } from './bigram-policy.js';
import { startServer, type RunningServer, type ServeOptions } from '../server.js';

export interface BigramServer {
  server: RunningServer;
  backend: BigramPolicy;
  tokenizer: CharTokenizer;
  checkpointDir: string;
}

export async function startBigramServer(overrides: Partial<ServeOptions> = {}): Promise<BigramServer> {
  // The embedded model's tokenizer (one id per ASCII character): the servers see the ids they serve in production.
  const tokenizer = charTokenizer;
  const checkpointDir = await mkdtemp(join(tmpdir(), 'cir-serve-'));
  const backend = new BigramPolicy(tokenizer, { contextWindow: 256, seed: 7, checkpointDir });
  const server = await startServer({ backend, tokenizer, modelName: 'bigram-test', checkpointDir, ...overrides });
  return { server, backend, tokenizer, checkpointDir };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : null };
}

/** Reads an SSE body into its `data:` payloads (the final `[DONE]` included as a string). */
export async function readEvents(response: Response): Promise<unknown[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => {
      const payload = block.slice('data: '.length);
      return payload === '[DONE]' ? payload : (JSON.parse(payload) as unknown);
    });
}
