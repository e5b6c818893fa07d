/**
 * The plumbing the test servers built after vLLM, llama.cpp and Ollama share: reading a request body,
 * a sleep, and an HTTP server on an ephemeral loopback port whose handler failures become a 500 (or a
 * dropped connection once the answer has started).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    request.on('error', reject);
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface LoopbackServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `handle` on 127.0.0.1; `failed` answers a handler's error before anything was sent. */
export async function serveOnLoopback(
  handle: (incoming: IncomingMessage, response: ServerResponse) => Promise<void>,
  failed: (response: ServerResponse, message: string) => void,
  beforeClose: () => void = () => {},
): Promise<LoopbackServer> {
  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      if (!response.headersSent) failed(response, String(error));
      else response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      beforeClose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
