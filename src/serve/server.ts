/**
 * `cir serve`: one node:http server exposing a PolicyBackend over the OpenAI-compatible
 * completions API (as vLLM) and the Tinker training subset. Loopback by default; any other
 * address needs an API key that every request must carry. Bodies, prompts, `n` and
 * `max_tokens` are bounded with 4xx JSON errors.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import type { PolicyBackend } from '../core/policy.js';
import type { Tokenizer } from '../core/tokenizer.js';
import {
  createLimitedServer,
  checkContentType,
  checkRequestSource,
  DEFAULT_CONNECTION_LIMITS,
  HttpError,
  ReadWriteLock,
  hasApiKey,
  isLoopbackHost,
  readBodyBytes,
  readJsonBody,
  sendJson,
  toHttpError,
  type ConnectionLimits,
} from './http.js';
import { MODEL_INFO_PATH, modelInfoResponse, type ServedModelDescription } from './model-info.js';
import { handleCompletions, modelsResponse, parseCompletionRequest, type CompletionContext, type CompletionLimits } from './openai-api.js';
import { TinkerService, type TinkerCaps, type TinkerLimits } from './tinker-api.js';

export interface ServeLimits extends CompletionLimits, TinkerLimits {
  maxBodyBytes: number;
}

export interface ServeOptions {
  backend: PolicyBackend;
  tokenizer: Tokenizer;
  /** Name clients use in `model` / `base_model`. */
  modelName: string;
  /** Folder every checkpoint path over the API is confined to. */
  checkpointDir: string;
  /** Default 127.0.0.1. Anything not loopback requires `apiKey`. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  apiKey?: string;
  limits?: Partial<ServeLimits>;
  sessionTimeoutMs?: number;
  /** Makes the backend of each further Tinker model (a KL reference, a second run); without it one model at a time. */
  createBackend?: () => Promise<PolicyBackend>;
  /** Tinker models loaded at once (default 2). */
  maxModels?: number;
  /** Size caps of the Tinker service's maps (sessions, futures, sampling sessions). */
  tinkerCaps?: Partial<TinkerCaps>;
  futureHoldMs?: number;
  futureTtlMs?: number;
  /** The model's prompt format and tokenizer files, served at /cir/v1/model_info (absent: that route answers 404). */
  modelInfo?: ServedModelDescription;
  /** Clock for session expiry and future retention (injectable for tests). */
  now?: () => number;
  /** Host names served besides the loopback names (`Host` header check against DNS rebinding); `*` for any. */
  allowedHosts?: readonly string[];
  /** Connection cap and header / request-receive timeouts (DEFAULT_CONNECTION_LIMITS). */
  connections?: Partial<ConnectionLimits>;
  /** Completion requests generating at once; more are refused with 429 (default DEFAULT_MAX_CONCURRENT_SAMPLING). */
  maxConcurrentSampling?: number;
}

/** Completion requests generating at once: twice `cir bench serve`'s largest client count. */
export const DEFAULT_MAX_CONCURRENT_SAMPLING = 64;
const JSON_ONLY = ['application/json'];
/** Tinker takes JSON, and protobuf on forward_backward (tinker-api.ts refuses it elsewhere). */
const TINKER_TYPES = ['application/json', 'application/x-protobuf'];

export interface RunningServer {
  /** e.g. `http://127.0.0.1:8000`. */
  url: string;
  host: string;
  port: number;
  limits: ServeLimits;
  close(): Promise<void>;
}

export function defaultLimits(contextWindow: number): ServeLimits {
  return {
    maxBodyBytes: 32 * 1024 * 1024,
    maxN: 64,
    maxPrompts: 64,
    maxTokens: contextWindow,
    maxPromptTokens: contextWindow,
    maxDatums: 1024,
    maxSamples: 64,
  };
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !options.apiKey) {
    throw new InputError(`listening on ${host} (not loopback) requires an API key (--api-key-env VAR)`, '--host');
  }
  const limits = { ...defaultLimits(options.backend.contextWindow), ...options.limits };
  const checkpointDir = resolve(options.checkpointDir);
  await mkdir(checkpointDir, { recursive: true });
  const lock = new ReadWriteLock();
  const completions: CompletionContext = { backend: options.backend, tokenizer: options.tokenizer, modelName: options.modelName, limits, lock };
  const tinker = new TinkerService({
    backend: options.backend,
    ...(options.createBackend ? { createBackend: options.createBackend } : {}),
    ...(options.maxModels !== undefined ? { maxModels: options.maxModels } : {}),
    ...(options.tinkerCaps ? { caps: options.tinkerCaps } : {}),
    maxBodyBytes: limits.maxBodyBytes,
    tokenizer: options.tokenizer,
    modelName: options.modelName,
    checkpointDir,
    lock,
    limits,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 300_000,
    futureHoldMs: options.futureHoldMs ?? 30_000,
    futureTtlMs: options.futureTtlMs ?? 600_000,
    now: options.now ?? Date.now,
  });
  await tinker.init();
  const started = Math.floor(Date.now() / 1000);
  const allowedHosts = options.allowedHosts ?? [];
  const maxSampling = options.maxConcurrentSampling ?? DEFAULT_MAX_CONCURRENT_SAMPLING;
  let sampling = 0;

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const tinkerRoute = path.startsWith('/api/v1/');
    try {
      checkRequestSource(request, allowedHosts);
      if (options.apiKey && !hasApiKey(request, options.apiKey)) throw new HttpError(401, 'missing or wrong API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"');
      const method = request.method ?? 'GET';
      checkContentType(request, tinkerRoute ? TINKER_TYPES : JSON_ONLY);
      if (tinkerRoute) {
        const body = method === 'POST' ? await readBodyBytes(request, limits.maxBodyBytes) : Buffer.alloc(0);
        const answer = await tinker.handleHttp({ method, path: path.slice('/api/v1'.length), headers: request.headers, body });
        if (answer.bytes) {
          response.writeHead(answer.status, { 'content-type': 'application/x-protobuf', 'content-length': answer.bytes.byteLength });
          response.end(answer.bytes);
        } else sendJson(response, answer.status, answer.body);
        return;
      }
      if (method === 'GET' && path === '/health') {
        response.writeHead(200, { 'content-length': 0 });
        response.end();
        return;
      }
      if (method === 'GET' && path === '/v1/models') return sendJson(response, 200, modelsResponse(completions, started));
      if (method === 'GET' && path === '/version') return sendJson(response, 200, { version: 'cir-0.1.0' });
      if (method === 'GET' && path === MODEL_INFO_PATH && options.modelInfo) {
        return sendJson(response, 200, modelInfoResponse(options.modelInfo, { modelName: options.modelName, contextWindow: options.backend.contextWindow, tokenizer: options.tokenizer }));
      }
      if (path === '/v1/completions') {
        if (method !== 'POST') throw new HttpError(405, 'use POST for /v1/completions');
        if (sampling >= maxSampling) throw new HttpError(429, `${maxSampling} completion requests are already generating (--max-concurrent-sampling); retry shortly`);
        const spec = parseCompletionRequest(await readJsonBody(request, limits.maxBodyBytes), completions);
        const abort = new AbortController();
        // A client that goes away stops its generation.
        response.on('close', () => {
          if (!response.writableFinished) abort.abort();
        });
        sampling++;
        try {
          await handleCompletions(completions, spec, response, abort.signal);
        } finally {
          sampling--;
        }
        return;
      }
      throw new HttpError(404, `no route for ${method} ${path}`);
    } catch (error) {
      const failure = toHttpError(error);
      if (response.headersSent) {
        response.destroy();
        return;
      }
      // A refused request closes its connection: nothing unread stays on it, nothing waits for the next request.
      if (failure.status === 429) response.setHeader('retry-after', '1');
      response.setHeader('connection', 'close');
      if (tinkerRoute) sendJson(response, failure.status, { detail: failure.message });
      else sendJson(response, failure.status, { error: { message: failure.message, type: errorType(failure.status), param: failure.param, code: failure.status } });
    }
  };

  // The request-receive timeout covers headers and body only: long-polls and long generations are normal here.
  const server: Server = createLimitedServer({ ...DEFAULT_CONNECTION_LIMITS, ...options.connections }, (request, response) => {
    void route(request, response);
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    host: address.address,
    port: address.port,
    limits,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }).then(() => tinker.close()),
  };
}

function errorType(status: number): string {
  if (status === 400 || status === 413 || status === 422) return 'BadRequestError';
  if (status === 401) return 'AuthenticationError';
  if (status === 403) return 'PermissionDeniedError';
  if (status === 404) return 'NotFoundError';
  if (status === 405) return 'MethodNotAllowedError';
  if (status === 409) return 'ConflictError';
  return 'InternalServerError';
}
