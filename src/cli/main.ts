#!/usr/bin/env node
/** Entry point of the `cir` program: finds the command, runs it, maps errors to exit codes. */
import { AbortedError, CirError, InputError } from '../core/errors.js';
import { UsageError, type Command } from './command.js';
import { commands } from './commands/index.js';

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'cir: code-integrated reasoning — sandboxed Python tools, rollouts, grading, RL training and evaluation',
    '',
    'Usage: cir <command> [options]   (cir <command> --help for details)',
    '',
    'Commands:',
    ...lines,
    '',
  ].join('\n');
}

/** Longest command name that prefixes argv, so `sandbox doctor` wins over `sandbox`. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of commands) {
    const words = command.name.split(' ');
    if (words.every((word, i) => argv[i] === word)) {
      if (!best || words.length > best.command.name.split(' ').length) best = { command, rest: argv.slice(words.length) };
    }
  }
  return best;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(overview());
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    process.stdout.write('cir 0.1.0\n');
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`cir: unknown command ${JSON.stringify(argv.join(' '))}\n\n${overview()}`);
    return 2;
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help.endsWith('\n') ? command.help : `${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`cir ${command.name}: ${error.message}\n\n${command.help}\n`);
      return 2;
    }
    if (error instanceof InputError) {
      process.stderr.write(`cir ${command.name}: ${error.input}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof AbortedError) {
      // 128 + SIGINT, as a shell reports a program stopped by Ctrl-C.
      process.stderr.write(`cir ${command.name}: ${error.message}\n`);
      return 130;
    }
    if (error instanceof CirError) {
      process.stderr.write(`cir ${command.name}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cir: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
