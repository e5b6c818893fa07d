// Runs every compiled test file (dist-test/**/*.test.js, the test build) with Node's test runner.
// Node 20's --test takes no globs, so the file list is built here. Arguments filter by substring:
//   node scripts/run-tests.mjs grader interpreter
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist-test');
if (!existsSync(dist)) {
  console.error('run-tests: dist-test/ is missing; run `npm run build:test` first');
  process.exit(2);
}
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.js')) files.push(path);
  }
})(dist);
const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (selected.length === 0) {
  console.error(`run-tests: no test files match ${JSON.stringify(filters)}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=2', ...selected], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
