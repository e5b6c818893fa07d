import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { commands } from './commands/index.js';

const mainPath = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
const runCli = (...args: string[]) => spawnSync(process.execPath, [mainPath, ...args], { encoding: 'utf8' });

test('cir --help lists every command and exits 0', () => {
  const result = runCli('--help');
  assert.equal(result.status, 0);
  assert.match(result.stdout, /Usage: cir <command>/);
  for (const command of commands) assert.ok(result.stdout.includes(command.name), command.name);
});

test('an unknown command exits 2 and says which', () => {
  const result = runCli('no-such-command');
  assert.equal(result.status, 2);
  assert.match(result.stderr, /unknown command "no-such-command"/);
});

test('every command prints its own help with --help', () => {
  for (const command of commands) {
    const result = runCli(...command.name.split(' '), '--help');
    assert.equal(result.status, 0, command.name);
    assert.ok(result.stdout.trim().length > 20, `${command.name} has help text`);
  }
});
