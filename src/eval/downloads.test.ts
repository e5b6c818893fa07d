/** Attacks on the size caps of everything downloaded: Hub files and SandboxFusion answers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { hostileServer } from '../core/testing/hostile-server.js';
import { loadBenchmark } from '../datasets/load.js';
import { SandboxFusionExecutor } from '../interpreter/sandbox-fusion.js';
import { downloadHfTokenizer } from '../tokenizers/hub.js';

test('attack: Hub downloads (tokenizer files, benchmark files) and SandboxFusion answers have size caps', async () => {
  const server = await hostileServer();
  try {
    const cacheDir = mkdtempSync(join(tmpdir(), 'cir-capped-'));
    await assert.rejects(downloadHfTokenizer('evil/tok', { cacheDir, endpoint: server.url, maxFileBytes: 1 << 20 }), /over the 1048576-byte limit/);
    await assert.rejects(
      loadBenchmark('hf:evil/set/data.jsonl', { env: { HF_ENDPOINT: server.url }, cacheDir, maxDownloadBytes: 1 << 20 }),
      (e: unknown) => e instanceof InputError && /over the 1048576-byte limit/.test(e.message),
    );
    const fusion = new SandboxFusionExecutor({ url: server.url, maxOutputBytes: 1024, timeoutMs: 10_000 });
    const outcome = await fusion.execute('print(1)');
    assert.equal(outcome.kind, 'infra_error');
    assert.match(outcome.kind === 'infra_error' ? outcome.reason : '', /byte limit/);
    await fusion.close();
    assert.ok(server.sent() < 256 << 20, `stopped reading early (${server.sent()} bytes sent)`);
  } finally {
    await server.close();
  }
});
