import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { InputError } from '../core/errors.js';
import { writeFixtureRun } from './testing/fixtures.js';
import { isLoopback, startViewer } from './viewer.js';

/** Raw GET with the path sent exactly as written (fetch would normalise `..` away). */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('viewer serves only the run: allowlisted files, records by index, no traversal', async () => {
  const dir = writeFixtureRun({ problems: 2, samples: 2 });
  const viewer = await startViewer({ dir });
  try {
    assert.match(viewer.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = JSON.parse((await rawGet(viewer.url, '/api/index')).body) as { problem_id: string; sample: number }[];
    assert.deepEqual(
      index.map((e) => `${e.problem_id}/${e.sample}`),
      ['p0/0', 'p0/1', 'p1/0', 'p1/1'],
    );
    const record = JSON.parse((await rawGet(viewer.url, '/api/record/3')).body) as { problem_id: string; sample: number };
    assert.deepEqual([record.problem_id, record.sample], ['p1', 1]);
    assert.equal((await rawGet(viewer.url, '/files/config.json')).status, 200);
    for (const path of [
      '/api/record/4',
      '/api/record/-1',
      '/files/../../../etc/passwd',
      '/files/..%2f..%2f..%2fetc%2fpasswd',
      '/files/%2e%2e/config.json',
      '/files/results.jsonl/../config.json.tmp',
      '/files/constructor',
      '/../../etc/passwd',
      '/etc/passwd',
    ]) {
      const response = await rawGet(viewer.url, path);
      assert.notEqual(response.status, 200, path);
      assert.doesNotMatch(response.body, /root:/, path);
    }
  } finally {
    await viewer.close();
  }
});

test('viewer refuses non-loopback addresses unless explicitly allowed', async () => {
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('192.168.1.2'));
  const dir = writeFixtureRun({ problems: 1, samples: 1 });
  await assert.rejects(startViewer({ dir, host: '0.0.0.0' }), (e: unknown) => e instanceof InputError && /--allow-remote/.test(e.message));
  const open = await startViewer({ dir, host: '0.0.0.0', allowRemote: true });
  await open.close();
  await assert.rejects(startViewer({ dir: mkdtempSync(join(tmpdir(), 'cir-empty-')) }), /not a run directory/);
});

test('viewer page in headless Chromium: filters, trajectory parts set apart, hostile text inert, screenshot', async () => {
  const dir = writeFixtureRun({ problems: 4, samples: 2 });
  const viewer = await startViewer({ dir });
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'cir-chromium-')), {
    executablePath: '/usr/bin/chromium',
    viewport: { width: 1200, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  }).catch(async (error: unknown) => {
    await viewer.close();
    throw error;
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(viewer.url);
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.locator('#list li').count(), 8);
    // correct unless (p + s) % 3 == 0 → wrong: p0/0, p1/2(n/a), p2/1, p3/0 → 3 wrong of 8
    await page.selectOption('#f-correct', 'wrong');
    assert.equal(await page.locator('#list li').count(), 3);
    await page.selectOption('#f-correct', '');
    await page.selectOption('#f-subject', 'Geometry <script>');
    assert.equal(await page.locator('#list li').count(), 4);
    await page.selectOption('#f-subject', '');
    await page.selectOption('#f-outcome', 'failure'); // odd samples ran failing code
    assert.equal(await page.locator('#list li').count(), 4);
    await page.selectOption('#f-outcome', 'kind:error');
    assert.equal(await page.locator('#list li').count(), 4);
    await page.selectOption('#f-outcome', '');

    await page.locator('#list li').first().click(); // p0 sample 0: wrong, code ran fine
    await page.waitForSelector('#verdict');
    assert.match((await page.locator('#verdict').textContent()) ?? '', /Wrong.*extracted: <script>41<\/script>.*reference: 42/s);
    assert.equal(await page.locator('pre.code').count(), 1);
    assert.equal(await page.locator('pre.code').textContent(), 'print(6*7)\n');
    assert.equal(await page.locator('pre.output').count(), 1);
    assert.match((await page.locator('.label').nth(1).textContent()) ?? '', /interpreter output \(ok\)/);
    assert.match((await page.locator('.prose').first().textContent()) ?? '', /<script>window.__pwned = 1<\/script> <img src=x onerror=/);
    // The hostile text is text: no element was created from it and nothing ran.
    assert.equal(await page.locator('#detail script, #detail img, #list script').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned ?? 0), 0);

    await page.locator('#list li').nth(1).click(); // p0 sample 1: failing code
    await page.waitForSelector('pre.output.failed');
    assert.match((await page.locator('pre.output.failed').textContent()) ?? '', /ZeroDivisionError/);

    const shot = await page.screenshot({ fullPage: false });
    assert.ok(shot.length > 10_000, `screenshot of ${shot.length} bytes`);
    // Non-blank: sample the rendered page in the browser and count distinct colours.
    // A string expression: the page has DOM types, this file's TypeScript does not.
    const colours = await page.evaluate<number>(`(async () => {
      const image = new Image();
      image.src = 'data:image/png;base64,${shot.toString('base64')}';
      await image.decode();
      const canvas = new OffscreenCanvas(image.width, image.height);
      const context = canvas.getContext('2d');
      context.drawImage(image, 0, 0);
      const data = context.getImageData(0, 0, image.width, image.height).data;
      const seen = new Set();
      for (let i = 0; i < data.length; i += 4 * 97) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      return seen.size;
    })()`);
    assert.ok(colours > 5, `screenshot has ${colours} distinct sampled colours`);
    assert.ok(await page.locator('#verdict').isVisible());
    assert.ok(await page.locator('#filters').isVisible());
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await viewer.close();
  }
});

test('attack: the viewer serves regular files only, never a symlink planted under an allowed name', async () => {
  const { symlinkSync, writeFileSync, rmSync } = await import('node:fs');
  const dir = writeFixtureRun({ problems: 1, samples: 1 });
  const secret = join(mkdtempSync(join(tmpdir(), 'cir-secret-')), 'id_rsa');
  writeFileSync(secret, 'PRIVATE KEY');
  rmSync(join(dir, 'config.json'));
  symlinkSync(secret, join(dir, 'config.json'));
  symlinkSync(secret, join(dir, 'report.md'));
  const viewer = await startViewer({ dir });
  try {
    for (const path of ['/files/config.json', '/files/report.md']) {
      const response = await rawGet(viewer.url, path);
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(response.body, /PRIVATE KEY/, path);
    }
  } finally {
    await viewer.close();
  }
});
