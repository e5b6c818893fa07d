/** Small HTTP helpers for the servers: bounded JSON bodies, errors with a status, auth, a read-write lock. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CirError, InputError } from '../core/errors.js';
import { isLoopbackHost, requestSourceProblem } from '../core/http-guard.js';

/** A request the server refuses: carries the HTTP status and the offending parameter. */
export class HttpError extends CirError {
  override readonly name: string = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/** Maps library errors to HTTP: bad inputs are 400 naming the input; anything else is 500. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof InputError) return new HttpError(400, `${error.input}: ${error.message}`, error.input);
  return new HttpError(500, error instanceof Error ? error.message : String(error));
}

/** Reads a body as bytes, refusing more than `maxBytes` (413). */
export async function readBodyBytes(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    request.resume();
    throw new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > maxBytes) {
      request.resume();
      throw new HttpError(413, `request body exceeds the limit of ${maxBytes} bytes`);
    }
    parts.push(part);
  }
  return Buffer.concat(parts);
}

/** Reads a JSON body, refusing more than `maxBytes` (413) and malformed JSON (400). */
export async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const body = await readBodyBytes(request, maxBytes);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new HttpError(400, `request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export { isLoopbackHost };

/** True when the request carries the key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function hasApiKey(request: IncomingMessage, key: string): boolean {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const header = request.headers['x-api-key'];
  const given = bearer ?? (typeof header === 'string' ? header : undefined);
  if (given === undefined) return false;
  // Compare digests so the comparison time does not depend on where the strings differ.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(key));
}

/**
 * Many readers (sampling) or one writer (training steps that change or read-modify weights).
 * Writers wait for running readers and block new ones, so a training step never interleaves
 * with a decode step of the same weights.
 */
export class ReadWriteLock {
  private readers = 0;
  private writing = false;
  private waitingWriters = 0;
  private readonly queue: Array<() => void> = [];

  async read<T>(work: () => Promise<T>): Promise<T> {
    while (this.writing || this.waitingWriters > 0) await this.wait();
    this.readers++;
    try {
      return await work();
    } finally {
      this.readers--;
      this.wake();
    }
  }

  async write<T>(work: () => Promise<T>): Promise<T> {
    this.waitingWriters++;
    while (this.writing || this.readers > 0) await this.wait();
    this.waitingWriters--;
    this.writing = true;
    try {
      return await work();
    } finally {
      this.writing = false;
      this.wake();
    }
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private wake(): void {
    for (const resolve of this.queue.splice(0)) resolve();
  }
}

/** Refuses (403) what `requestSourceProblem` (core/http-guard.ts) finds: DNS rebinding or a cross-site request. */
export function checkRequestSource(request: IncomingMessage, allowedHosts: readonly string[]): void {
  const problem = requestSourceProblem(request.headers, allowedHosts);
  if (problem) throw new HttpError(problem.status, problem.message, problem.header);
}

/**
 * Refuses (415) a request body whose media type is not one of `allowed`. The protocols use JSON
 * (and protobuf for Tinker's forward_backward); `text/plain`, form and multipart bodies, which a
 * browser sends cross-site without a preflight, are never accepted.
 */
export function checkContentType(request: IncomingMessage, allowed: readonly string[]): void {
  const length = Number(request.headers['content-length'] ?? '0');
  const hasBody = request.headers['transfer-encoding'] !== undefined || (Number.isFinite(length) && length > 0);
  if (!hasBody) return;
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!allowed.includes(type)) {
    throw new HttpError(415, `content type ${JSON.stringify(type || '(none)')} is not accepted here; send ${allowed.join(' or ')}`, 'Content-Type');
  }
}

export { createLimitedServer, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../core/http-guard.js';
