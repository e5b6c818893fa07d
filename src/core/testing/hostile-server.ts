/** A hostile HTTP server on loopback for the size-cap tests (downloads, SandboxFusion answers). */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A hostile server on loopback: `/endless` streams forever, `/liar` declares a huge length, `/small` is 10 bytes. */
export async function hostileServer(): Promise<{ url: string; sent: () => number; close: () => Promise<void> }> {
  let sent = 0;
  const endless = (response: ServerResponse) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (!response.destroyed && sent < 1024 ** 3) {
        sent += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
    };
    response.on('close', () => undefined);
    pump();
  };
  const server = createServer((request, response) => {
    if (request.url?.endsWith('/liar') || request.url?.endsWith('tokenizer_config.json')) {
      response.writeHead(200, { 'content-length': String(2 ** 40) });
      response.write('{');
      return;
    }
    if (request.url?.endsWith('/small')) return void response.end('0123456789');
    if (request.url?.endsWith('.json') || request.url?.endsWith('.jsonl') || request.url?.endsWith('run_code') || request.url?.endsWith('/endless')) return endless(response);
    response.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent: () => sent,
    close: () => new Promise((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}

