/**
 * What a local HTTP server (`cir serve`, `cir view`) checks so that a web page the user visits
 * cannot drive or read it. DNS rebinding: the attacker's name resolves to 127.0.0.1, but the
 * request still carries the attacker's name in `Host`, so only `localhost`, IP literals (a page
 * whose origin is an IP address is served by that address: no rebinding) and names the user
 * allowed are served. Cross-site requests: browsers send `Origin` (and `Sec-Fetch-Site`); one that
 * is not this server itself is refused. Clients that are not browsers send neither.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The host name of a `Host` header, lower-cased, without port or IPv6 brackets. */
export function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith('[')) {
    const close = lower.indexOf(']');
    return close > 0 ? lower.slice(1, close) : lower;
  }
  const colon = lower.lastIndexOf(':');
  return colon >= 0 && lower.indexOf(':') === colon ? lower.slice(0, colon) : lower;
}

export interface SourceProblem {
  status: 400 | 403;
  header: 'Host' | 'Origin' | 'Sec-Fetch-Site';
  message: string;
}

/** Why a request must be refused, or undefined when it may be served. `*` in `allowedHosts` allows any host. */
export function requestSourceProblem(headers: IncomingHttpHeaders, allowedHosts: readonly string[]): SourceProblem | undefined {
  const host = headers.host;
  if (!host) return { status: 400, header: 'Host', message: 'missing Host header' };
  const name = hostName(host);
  const allowed = allowedHosts.map((h) => h.toLowerCase());
  if (!isLoopbackHost(name) && isIP(name) === 0 && !allowed.includes('*') && !allowed.includes(name)) {
    return { status: 403, header: 'Host', message: `Host ${JSON.stringify(host)} is not served here (a DNS-rebinding page?); start with --allowed-hosts ${name} to serve it` };
  }
  const origin = headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      originHost = undefined;
    }
    if (originHost !== host.trim().toLowerCase()) return { status: 403, header: 'Origin', message: `cross-origin request from ${JSON.stringify(origin)} refused` };
  }
  if (headers['sec-fetch-site'] === 'cross-site') return { status: 403, header: 'Sec-Fetch-Site', message: 'cross-site request refused' };
  return undefined;
}

export interface ConnectionLimits {
  /** Connections open at once; further ones are closed on arrival. */
  maxConnections: number;
  /** Time to receive a request's headers. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included (not the response: long generations are fine). */
  requestTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { maxConnections: 256, headersTimeoutMs: 20_000, requestTimeoutMs: 120_000 };

/**
 * A node:http server with the limits applied: a slow-loris client is cut off (Node checks the
 * timeouts every `connectionsCheckingInterval`, 30 s by default, so it is tied to the timeouts),
 * connections over the cap are closed on arrival.
 */
export function createLimitedServer(limits: ConnectionLimits, listener: (request: IncomingMessage, response: ServerResponse) => void): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2))),
    },
    listener,
  );
  server.maxConnections = limits.maxConnections;
  return server;
}
