/** Hub loading as real code against a local HTTP server: nothing is fetched from the network. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { decodePrivateTests, HubError, loadLcbFromHub } from './lcb-hub.js';
import { judgeProgram } from './lcb-judge.js';
import { createSandboxExecutor } from '../interpreter/index.js';

/** pickle.dumps(text, protocol=4), written out by hand. */
function pickle4(text: string): Buffer {
  const utf = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(utf.length);
  const body = Buffer.concat([Buffer.from([0x58]), length, utf, Buffer.from([0x94, 0x2e])]);
  const frame = Buffer.alloc(8);
  frame.writeBigUInt64LE(BigInt(body.length));
  return Buffer.concat([Buffer.from([0x80, 4, 0x95]), frame, body]);
}

const encode = (pickle: Buffer) => deflateSync(pickle).toString('base64');
const hidden = (tests: object[]) => encode(pickle4(JSON.stringify(tests)));

const stdinRow = {
  question_title: 'Double',
  question_content: 'Print twice N.',
  platform: 'atcoder',
  question_id: 'abc999_a',
  contest_id: 'abc999',
  contest_date: '2024-09-01T00:00:00',
  starter_code: '',
  difficulty: 'easy',
  public_test_cases: JSON.stringify([{ input: '2\n', output: '4\n', testtype: 'stdin' }]),
  private_test_cases: hidden([
    { input: '5\n', output: '10\n', testtype: 'stdin' },
    { input: '1000000000000\n', output: '2000000000000\n', testtype: 'stdin' },
  ]),
  metadata: '{}',
};
const functionalRow = {
  ...stdinRow,
  question_title: 'add-two',
  question_id: '9999',
  platform: 'leetcode',
  starter_code: 'class Solution:\n    def add(self, a: int, b: int) -> int:\n        ',
  public_test_cases: JSON.stringify([{ input: '1\n2', output: '3', testtype: 'functional' }]),
  private_test_cases: hidden([{ input: '-5\n5', output: '0', testtype: 'functional' }]),
  metadata: JSON.stringify({ func_name: 'add' }),
};
// The classic os.system pickle, compressed and encoded like a real hidden-test field.
const evilRow = { ...stdinRow, question_id: 'evil_1', private_test_cases: encode(Buffer.from("cos\nsystem\n(S'touch /tmp/pwned'\ntR.", 'latin1')) };

const files: Record<string, string> = {
  'test.jsonl': `${JSON.stringify(stdinRow)}\n`,
  'test2.jsonl': `${JSON.stringify(functionalRow)}\n`,
  'test3.jsonl': `${JSON.stringify(evilRow)}\n`,
};
const requests: string[] = [];
let server: Server;
let endpoint = '';
let cacheRoot = '';

before(async () => {
  cacheRoot = await mkdtemp(join(tmpdir(), 'cir-lcb-hub-'));
  server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const match = /^\/datasets\/livecodebench\/code_generation_lite\/resolve\/main\/(test\d?\.jsonl)$/.exec(request.url ?? '');
    const body = match ? files[match[1] as string] : undefined;
    if (body === undefined) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  endpoint = `http://127.0.0.1:${address.port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(cacheRoot, { recursive: true, force: true });
});

test('downloads a release, decodes the hidden tests and caches the files', async () => {
  const cacheDir = join(cacheRoot, 'a');
  const problems = await loadLcbFromHub({ release: 'release_v2', cacheDir, endpoint });
  assert.deepEqual(problems.map((p) => [p.id, p.release, p.testsComplete, p.tests.length]), [
    ['abc999_a', 'v1', true, 3],
    ['9999', 'v2', true, 2],
  ]);
  assert.deepEqual(problems[0]?.tests.map((t) => t.public), [true, false, false]);
  assert.equal(problems[0]?.tests[2]?.output, '2000000000000\n');
  assert.equal(problems[1]?.fnName, 'add');
  assert.equal(problems[0]?.starterCode, undefined);
  const before = requests.length;
  const again = await loadLcbFromHub({ release: 'release_v2', cacheDir, endpoint });
  assert.equal(again.length, 2);
  assert.equal(requests.length, before, 'the second load reads the cache');
});

test('problems loaded from the Hub are judged on their hidden tests', async () => {
  const [stdinProblem, functionalProblem] = await loadLcbFromHub({ release: 'release_v2', cacheDir: join(cacheRoot, 'b'), endpoint });
  assert.ok(stdinProblem && functionalProblem);
  const executor = await createSandboxExecutor({ concurrency: 2 });
  // Right on the public example only: 2 → 4 by squaring.
  const squaring = await judgeProgram(stdinProblem, 'n = int(input())\nprint(n * n)', executor);
  assert.equal(squaring.failedTestIndex, 1);
  assert.equal((await judgeProgram(stdinProblem, 'print(2 * int(input()))', executor)).passed, true);
  const adder = 'class Solution:\n    def add(self, a, b):\n        return a + b';
  assert.equal((await judgeProgram(functionalProblem, adder, executor)).passed, true);
  await executor.close();
});

test('a hidden-test field holding a code-running pickle is refused with a clear error', async () => {
  await assert.rejects(loadLcbFromHub({ release: 'release_v3', cacheDir: join(cacheRoot, 'c'), endpoint }), (error: Error) => {
    assert.equal(error.name, 'InputError');
    assert.match(error.message, /not a pickle of a single string: opcode GLOBAL \(0x63\) at byte 0 is not allowed/);
    assert.match((error as { input?: string }).input ?? '', /test3\.jsonl:1 \(evil_1\) private_test_cases/);
    return true;
  });
});

test('HTTP failures name the file; bad encodings are named too', async () => {
  await assert.rejects(loadLcbFromHub({ release: 'release_v1', cacheDir: join(cacheRoot, 'd'), endpoint: `${endpoint}/elsewhere` }), (error: Error) => {
    assert.ok(error instanceof HubError);
    assert.equal(error.status, 404);
    assert.match(error.message, /elsewhere\/datasets\/.*\/test\.jsonl: HTTP 404/);
    return true;
  });
  assert.throws(() => decodePrivateTests('not base64!', 'x'), /not base64/);
  assert.throws(() => decodePrivateTests(Buffer.from('plain').toString('base64'), 'x'), /not zlib data/);
  assert.throws(() => decodePrivateTests(encode(pickle4('{"a": 1}')), 'x'), /not a JSON array/);
  assert.deepEqual(decodePrivateTests('', 'x'), []);
});
