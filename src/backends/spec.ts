/**
 * The one grammar for naming an inference engine (`--engine`) and an interpreter (`--sandbox`), parsed
 * into plain records. Pure: nothing here opens a connection or a file.
 */
import { InputError } from '../core/errors.js';

export type EngineSpec =
  /** The embedded transformer, from a checkpoint folder (default: the committed warm start). */
  | { kind: 'embedded'; checkpoint: string | null }
  /** OpenAI-compatible `/v1/completions` (vLLM, SGLang); several endpoints are balanced. */
  | { kind: 'openai'; endpoints: string[] }
  /** llama.cpp's server through its native `/completion` API (token ids in and out). */
  | { kind: 'llamacpp-server'; url: string }
  /** Ollama's `/api/generate` with `raw: true` (text mode only). */
  | { kind: 'ollama'; url: string }
  /** A GGUF file run by llama.cpp inside this process. */
  | { kind: 'llamacpp'; file: string }
  /** A Tinker server (SkyRL, the hosted service, `cir serve`). */
  | { kind: 'tinker'; url: string };

export type EngineKind = EngineSpec['kind'];

export const ENGINE_GRAMMAR = `embedded[:CHECKPOINT]       the embedded model (default checkpoint: the committed warm start)
http(s)://HOST:PORT[,…]     OpenAI-compatible /v1/completions (vLLM, SGLang); several are balanced
llamacpp-server:URL         llama.cpp's server, native /completion API (token ids and log-probs)
ollama:URL                  Ollama's /api/generate with raw prompts (text mode only, no log-probs)
llamacpp:FILE.gguf          a GGUF model run by llama.cpp in this process
tinker:URL                  a Tinker server (SkyRL's, the hosted service, or cir serve)`;

function httpUrl(text: string, input: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`${JSON.stringify(text)} is not a URL (expected e.g. http://127.0.0.1:8080)`, input);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(`${JSON.stringify(text)} must be an http:// or https:// URL`, input);
  return text;
}

/** Parses one `--engine` value; `input` names the flag in errors. */
export function parseEngineSpec(text: string, input = '--engine'): EngineSpec {
  const value = text.trim();
  if (value === '') throw new InputError(`is empty; one of:\n${ENGINE_GRAMMAR}`, input);
  if (value === 'embedded') return { kind: 'embedded', checkpoint: null };
  if (/^https?:\/\//i.test(value)) {
    const endpoints = value.split(',').map((part) => part.trim());
    if (endpoints.some((endpoint) => endpoint === '')) throw new InputError(`${JSON.stringify(value)} has an empty endpoint between commas`, input);
    return { kind: 'openai', endpoints: endpoints.map((endpoint) => httpUrl(endpoint, input)) };
  }
  const colon = value.indexOf(':');
  const scheme = colon > 0 ? value.slice(0, colon) : value;
  const rest = colon > 0 ? value.slice(colon + 1) : '';
  const need = (what: string) => {
    if (rest.trim() === '') throw new InputError(`${JSON.stringify(value)} needs ${what} after "${scheme}:"`, input);
    return rest.trim();
  };
  switch (scheme) {
    case 'embedded':
      return { kind: 'embedded', checkpoint: need('a checkpoint folder') };
    case 'llamacpp-server':
      return { kind: 'llamacpp-server', url: httpUrl(need('the server URL'), input) };
    case 'ollama':
      return { kind: 'ollama', url: httpUrl(need('the server URL'), input) };
    case 'tinker':
      return { kind: 'tinker', url: httpUrl(need('the server URL'), input) };
    case 'llamacpp': {
      const file = need('a .gguf file');
      if (/^https?:\/\//i.test(file)) throw new InputError(`${JSON.stringify(value)}: llamacpp: runs a local .gguf file in this process; for a llama.cpp server use llamacpp-server:${file}`, input);
      return { kind: 'llamacpp', file };
    }
    default:
      throw new InputError(`${JSON.stringify(value)} is not an engine; one of:\n${ENGINE_GRAMMAR}`, input);
  }
}

/** The spec written back in the grammar (run records, messages). */
export function formatEngineSpec(spec: EngineSpec): string {
  switch (spec.kind) {
    case 'embedded':
      return spec.checkpoint === null ? 'embedded' : `embedded:${spec.checkpoint}`;
    case 'openai':
      return spec.endpoints.join(',');
    case 'llamacpp-server':
    case 'ollama':
    case 'tinker':
      return `${spec.kind}:${spec.url}`;
    case 'llamacpp':
      return `llamacpp:${spec.file}`;
  }
}

export type SandboxSpec = { kind: 'local' } | { kind: 'fusion'; url: string };

export const SANDBOX_GRAMMAR = `local           the bubblewrap sandbox on this machine (default)
fusion:URL      a SandboxFusion service (POST URL/run_code); stateless blocks only`;

/** Parses one `--sandbox` value. */
export function parseSandboxSpec(text: string, input = '--sandbox'): SandboxSpec {
  const value = text.trim();
  if (value === 'local') return { kind: 'local' };
  if (value.startsWith('fusion:')) {
    const url = value.slice('fusion:'.length).trim();
    if (url === '') throw new InputError(`${JSON.stringify(value)} needs the service URL after "fusion:"`, input);
    return { kind: 'fusion', url: httpUrl(url, input) };
  }
  throw new InputError(`${JSON.stringify(value)} is not a sandbox; one of:\n${SANDBOX_GRAMMAR}`, input);
}

export function formatSandboxSpec(spec: SandboxSpec): string {
  return spec.kind === 'local' ? 'local' : `fusion:${spec.url}`;
}
