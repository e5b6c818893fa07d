/** Every command of the CLI, in the order `cir --help` lists them. */
import type { Command } from '../command.js';
import { evalCommand, reportCommand, compareCommand, viewCommand } from './eval-commands.js';
import { judgeCommand } from './judge.js';
import { gradeCommand } from './grade.js';
import { benchGraderCommand } from './bench-grader.js';
import { serveCommand } from './serve.js';
import { benchServeCommand } from './bench-serve.js';
import { execCommand } from './exec.js';
import { sandboxDoctorCommand } from './sandbox-doctor.js';
import { benchSandboxCommand } from './bench-sandbox.js';
import { solveCommand } from './solve.js';
import { benchRolloutCommand } from './bench-rollout.js';
import { pretrainCommand } from './pretrain.js';
import { benchKernelsCommand } from './bench-kernels.js';
import { benchEnginesCommand } from './bench-engines.js';
import { trainCommand } from './train.js';
import { ablateCommand } from './ablate.js';
import { reproduceCommand } from './reproduce.js';
import { exportCommand } from './export.js';

export const commands: Command[] = [
  trainCommand,
  pretrainCommand,
  ablateCommand,
  reproduceCommand,
  evalCommand,
  reportCommand,
  compareCommand,
  viewCommand,
  solveCommand,
  exportCommand,
  execCommand,
  sandboxDoctorCommand,
  gradeCommand,
  judgeCommand,
  serveCommand,
  benchSandboxCommand,
  benchGraderCommand,
  benchRolloutCommand,
  benchKernelsCommand,
  benchEnginesCommand,
  benchServeCommand,
];
