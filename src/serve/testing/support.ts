/** Shared set-up for the serve tests: a bigram backend (test double) behind a real server. */
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
  const makeBackend = () => new BigramPolicy(tokenizer, { contextWindow: 256, seed: 7, checkpointDir });
  const backend = makeBackend();
  // Further Tinker models (a KL reference) each get a bigram of their own from the same seed.
  const server = await startServer({ backend, tokenizer, modelName: 'bigram-test', checkpointDir, createBackend: async () => makeBackend(), ...overrides });
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

/** A zstd frame holding `data` in raw (stored) blocks: valid zstd, written here because Node 20's zlib has no zstd encoder. */
export function zstdStored(data: Uint8Array): Uint8Array {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0xa0]; // magic; single segment, 4-byte content size
  for (let i = 0; i < 4; i++) parts.push((data.byteLength >>> (8 * i)) & 0xff);
  const blockMax = 128 * 1024;
  for (let offset = 0; offset === 0 || offset < data.byteLength; offset += blockMax) {
    const size = Math.min(blockMax, data.byteLength - offset);
    const last = offset + size >= data.byteLength ? 1 : 0;
    const header = (size << 3) | last; // block type 0: raw
    parts.push(header & 0xff, (header >>> 8) & 0xff, (header >>> 16) & 0xff, ...data.subarray(offset, offset + size));
  }
  return Uint8Array.from(parts);
}

export async function postBytes(url: string, body: Uint8Array, headers: Record<string, string>): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : null };
}
