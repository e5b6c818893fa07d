/**
 * Bodies of HTTP responses from servers we do not control (the Hugging Face Hub, a SandboxFusion
 * service) are read with a size cap: a hostile or broken server cannot make us buffer without end.
 * A declared `content-length` over the cap is refused before reading; otherwise the stream is read
 * and cancelled as soon as it passes the cap.
 */
import { RemoteError } from './errors.js';

/** A response body was larger than its cap. */
export class ResponseTooLargeError extends RemoteError {
  override readonly name: string = 'ResponseTooLargeError';
  constructor(
    url: string,
    readonly limitBytes: number,
  ) {
    super(`the response from ${url} is over the ${limitBytes}-byte limit`, url);
  }
}

/** The `content-length` of a response when it declares one over `limitBytes` (checked before reading). */
export function declaredTooLarge(response: Response, limitBytes: number): boolean {
  const declared = Number(response.headers.get('content-length') ?? '');
  return Number.isFinite(declared) && declared > limitBytes;
}

/** Reads the whole body, throwing ResponseTooLargeError once it passes `limitBytes`. */
export async function readBodyCapped(response: Response, limitBytes: number, url: string): Promise<Buffer> {
  if (declaredTooLarge(response, limitBytes)) {
    await response.body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError(url, limitBytes);
  }
  if (!response.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(url, limitBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
