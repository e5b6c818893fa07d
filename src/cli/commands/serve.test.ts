import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const mainPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

test('cir serve prints its address when ready, answers, and stops cleanly on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-serve-cli-'));
  const child = spawn(process.execPath, [mainPath, 'serve', '--random-init', '--port', '0', '--json', '--checkpoint-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] as string);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before ready`)));
  });
  const ready = JSON.parse(line) as { url: string; model: string; checkpoint_dir: string };
  assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(ready.checkpoint_dir, dir);
  assert.equal((await fetch(`${ready.url}/health`)).status, 200);
  const completion = (await (await fetch(`${ready.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'Q: 1+1?\nA: ', max_tokens: 4, return_token_ids: true }) })).json()) as { model: string; choices: Array<{ token_ids: number[] }> };
  assert.equal(completion.model, 'cir-embedded');
  assert.ok((completion.choices[0]?.token_ids.length ?? 0) >= 1);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
