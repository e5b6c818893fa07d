/**
 * `cir view DIR`: a local web server to browse a run. It serves one page, a light index of the samples,
 * single records by position, and an allowlist of the run's own files; nothing else on disk is
 * reachable. It listens on loopback unless the caller explicitly allows another address.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, lstatSync, readFileSync, readSync } from 'node:fs';
import { openRegularFile, readRegularFile } from '../core/files.js';
import { createLimitedServer, DEFAULT_CONNECTION_LIMITS, isLoopbackHost, requestSourceProblem } from '../core/http-guard.js';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { checkRecord, CONFIG_FILE, RESULTS_FILE, sampleKey, SUMMARY_FILE } from './run-store.js';

/** The only files of the run directory the viewer hands out, with their content types. */
const SERVED_FILES: Readonly<Record<string, string>> = {
  [CONFIG_FILE]: 'application/json',
  [SUMMARY_FILE]: 'application/json',
  [RESULTS_FILE]: 'application/x-ndjson',
  'report.md': 'text/markdown; charset=utf-8',
  'report.html': 'text/html; charset=utf-8',
};

export interface IndexEntry {
  index: number;
  benchmark: string;
  problem_id: string;
  sample: number;
  correct: boolean;
  subject?: string;
  level?: string;
  status: string;
  toolCalls: number;
  hadFailure: boolean;
  outcomes: Record<string, number>;
}

export interface ViewerOptions {
  dir: string;
  host?: string;
  port?: number;
  /** Required to listen on anything but loopback. */
  allowRemote?: boolean;
  /** Host names served besides localhost and IP literals (`Host` check against DNS rebinding). */
  allowedHosts?: readonly string[];
}

export interface RunningViewer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export { isLoopbackHost as isLoopback };

interface LineIndex {
  size: number;
  entries: IndexEntry[];
  spans: { start: number; length: number }[];
}

/** Builds the sample index with each record's byte span, so full records are read on demand. */
function indexResults(path: string): LineIndex {
  if (!existsSync(path)) return { size: 0, entries: [], spans: [] };
  const bytes = readRegularFile(path);
  const entries: IndexEntry[] = [];
  const spans: { start: number; length: number }[] = [];
  const seen = new Set<string>();
  let start = 0;
  let line = 0;
  // Only complete lines: a torn last line (a run killed mid-write, or still writing) is not shown.
  for (let end = bytes.indexOf(0x0a, start); end !== -1; start = end + 1, end = bytes.indexOf(0x0a, start)) {
    line += 1;
    const text = bytes.subarray(start, end).toString('utf8');
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new InputError(`line ${line}: not valid JSON`, path);
    }
    const r = checkRecord(value, path, line);
    const key = sampleKey(r.benchmark, r.problem_id, r.sample);
    if (seen.has(key)) continue;
    seen.add(key);
    spans.push({ start, length: end - start });
    entries.push({
      index: entries.length,
      benchmark: r.benchmark,
      problem_id: r.problem_id,
      sample: r.sample,
      correct: r.correct,
      ...(r.subject !== undefined ? { subject: r.subject } : {}),
      ...(r.level !== undefined ? { level: r.level } : {}),
      status: r.stats.status,
      toolCalls: r.stats.toolCalls,
      hadFailure: r.stats.hadFailure,
      outcomes: r.stats.outcomes as Record<string, number>,
    });
  }
  return { size: bytes.length, entries, spans };
}

function readSpan(path: string, span: { start: number; length: number }): Buffer {
  const fd = openRegularFile(path, 'read');
  try {
    if (fstatSync(fd).size < span.start + span.length) throw new InputError('shrank while the viewer was reading it', path);
    const buffer = Buffer.alloc(span.length);
    readSync(fd, buffer, 0, span.length, span.start);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

const page = readFileSync(new URL('./viewer.html', import.meta.url), 'utf8');
const scriptBody = /<script>([\s\S]*)<\/script>/.exec(page)?.[1] ?? '';
/** Only the page's own script may run, even if some model text ever reached the DOM as markup. */
const PAGE_POLICY = `default-src 'none'; script-src 'sha256-${createHash('sha256').update(scriptBody).digest('base64')}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:`;

function send(response: ServerResponse, status: number, type: string, body: string | Buffer, policy = "default-src 'none'; style-src 'unsafe-inline'"): void {
  response.writeHead(status, {
    'content-type': type,
    'content-security-policy': policy,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  });
  response.end(body);
}

export async function startViewer(options: ViewerOptions): Promise<RunningViewer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !options.allowRemote) {
    throw new InputError('refusing to listen beyond loopback without --allow-remote (anyone who can reach it could read the run)', host);
  }
  if (!existsSync(join(options.dir, CONFIG_FILE)) && !existsSync(join(options.dir, RESULTS_FILE))) {
    throw new InputError('not a run directory (no config.json or results.jsonl)', options.dir);
  }
  const resultsPath = join(options.dir, RESULTS_FILE);
  let index = indexResults(resultsPath);
  const current = (): LineIndex => {
    // Re-index when the file grew: the viewer can watch a run in progress.
    const size = existsSync(resultsPath) ? lstatSync(resultsPath).size : 0;
    if (size !== index.size) index = indexResults(resultsPath);
    return index;
  };

  const server = createLimitedServer(DEFAULT_CONNECTION_LIMITS, (request, response) => {
    // A web page must not read the run (withheld text included): DNS rebinding and cross-site reads are refused.
    const problem = requestSourceProblem(request.headers, options.allowedHosts ?? []);
    if (problem) {
      response.setHeader('connection', 'close');
      send(response, problem.status, 'text/plain', problem.message);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'text/plain', 'method not allowed');
      return;
    }
    let pathname: string;
    try {
      pathname = new URL(request.url ?? '/', 'http://viewer').pathname;
    } catch {
      send(response, 400, 'text/plain', 'bad request');
      return;
    }
    try {
      if (pathname === '/' || pathname === '/index.html') {
        send(response, 200, 'text/html; charset=utf-8', page, PAGE_POLICY);
      } else if (pathname === '/api/index') {
        send(response, 200, 'application/json', JSON.stringify(current().entries));
      } else if (pathname.startsWith('/api/record/')) {
        const position = Number(pathname.slice('/api/record/'.length));
        const { spans } = current();
        const span = Number.isInteger(position) ? spans[position] : undefined;
        if (span === undefined) send(response, 404, 'text/plain', 'no such record');
        else send(response, 200, 'application/json', readSpan(resultsPath, span));
      } else if (pathname.startsWith('/files/')) {
        // Exact names from the allowlist only: no decoding tricks or `..` can reach another file;
        // and only regular files: a symlink planted under an allowed name is not followed.
        const name = pathname.slice('/files/'.length);
        const type = Object.hasOwn(SERVED_FILES, name) ? SERVED_FILES[name] : undefined;
        const path = join(options.dir, name);
        const regular = type !== undefined && existsSync(path) && lstatSync(path).isFile();
        if (!regular) send(response, 404, 'text/plain', 'not found');
        else send(response, 200, type, readRegularFile(path));
      } else {
        send(response, 404, 'text/plain', 'not found');
      }
    } catch (error) {
      send(response, 500, 'text/plain', error instanceof Error ? error.message : String(error));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
