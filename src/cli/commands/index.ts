/** Every command of the CLI, in the order `cir --help` lists them. */
import type { Command } from '../command.js';
import { serveCommand } from './serve.js';
import { benchServeCommand } from './bench-serve.js';

export const commands: Command[] = [serveCommand, benchServeCommand];
