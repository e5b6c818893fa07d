/**
 * Downloads a model's tokenizer files from the Hugging Face Hub (or a mirror) into a cache folder,
 * so `loadHfTokenizer` can read them offline afterwards. Only the small tokenizer files are fetched.
 */
import { mkdir } from 'node:fs/promises';
import { writeFileSafely } from '../core/files.js';
import { readBodyCapped } from '../core/http-body.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, RemoteError } from '../core/errors.js';
import { loadHfTokenizer, type HfTokenizer, type HfTokenizerOptions } from './hf-tokenizer.js';

export interface HubDownloadOptions {
  /** Where files are cached: `<cacheDir>/<owner>--<name>/<revision>/`. */
  cacheDir: string;
  /** Default `https://huggingface.co` (env `HF_ENDPOINT` is honoured by the CLI, not here). */
  endpoint?: string;
  revision?: string;
  /** Bearer token for gated models. */
  token?: string;
  fetch?: typeof fetch;
  /** Re-download even when cached. */
  force?: boolean;
  timeoutMs?: number;
  /** Largest file accepted from the Hub (default MAX_TOKENIZER_FILE_BYTES). */
  maxFileBytes?: number;
}

/** 256 MiB: the largest tokenizer.json files on the Hub are a few tens of MB. */
export const MAX_TOKENIZER_FILE_BYTES = 256 * 1024 * 1024;

/** A tokenizer file could not be downloaded from the Hub. */
export class HubDownloadError extends RemoteError {
  override readonly name: string = 'HubDownloadError';
}

const REQUIRED_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;
const OPTIONAL_FILES = ['chat_template.jinja', 'chat_template.json', 'generation_config.json', 'special_tokens_map.json'] as const;
const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Returns the folder holding the downloaded files. */
export async function downloadHfTokenizer(repoId: string, options: HubDownloadOptions): Promise<string> {
  if (!REPO_ID.test(repoId)) throw new InputError('expected a Hub repository id like "Qwen/Qwen3-8B"', repoId);
  const revision = options.revision ?? 'main';
  if (!/^[A-Za-z0-9._/-]+$/.test(revision) || revision.includes('..')) throw new InputError('invalid revision', revision);
  const endpoint = (options.endpoint ?? 'https://huggingface.co').replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? fetch;
  const dir = join(options.cacheDir, repoId.replace('/', '--'), revision.replaceAll('/', '--'));
  if (!options.force && REQUIRED_FILES.every((f) => existsSync(join(dir, f)))) return dir;
  await mkdir(dir, { recursive: true });

  const get = async (file: string, required: boolean): Promise<void> => {
    const url = `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${file}`;
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
        signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      throw new HubDownloadError(`cannot reach ${url}: ${(error as Error).message}`, url, null, { cause: error });
    }
    if (response.status === 404 && !required) return;
    if (!response.ok) {
      const hint = response.status === 401 || response.status === 403 ? ' (gated model? pass a token)' : '';
      throw new HubDownloadError(`GET ${url} answered HTTP ${response.status}${hint}`, url, response.status);
    }
    let body: Buffer;
    try {
      body = await readBodyCapped(response, options.maxFileBytes ?? MAX_TOKENIZER_FILE_BYTES, url);
    } catch (error) {
      throw new HubDownloadError(error instanceof Error ? error.message : String(error), url, response.status, { cause: error });
    }
    if (file.endsWith('.json')) {
      try {
        JSON.parse(body.toString('utf8'));
      } catch (error) {
        throw new HubDownloadError(`${url} is not valid JSON`, url, response.status, { cause: error });
      }
    }
    // A fresh temporary renamed over the target: a crash never leaves a half file that a later run
    // would trust, and a symlink planted in the cache is replaced, not written through.
    writeFileSafely(join(dir, file), body);
  };
  await Promise.all([...REQUIRED_FILES.map((f) => get(f, true)), ...OPTIONAL_FILES.map((f) => get(f, false))]);
  return dir;
}

/** Downloads (or reuses the cache) and loads. */
export async function loadHfTokenizerFromHub(
  repoId: string,
  options: HubDownloadOptions & HfTokenizerOptions,
): Promise<HfTokenizer> {
  const dir = await downloadHfTokenizer(repoId, options);
  return loadHfTokenizer(dir, { name: options.name ?? repoId, ...(options.eosToken !== undefined ? { eosToken: options.eosToken } : {}) });
}
