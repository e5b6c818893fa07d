/** `cir sandbox doctor`: reports what isolation the sandbox can use here and how to fix what is missing. */
import { sandboxDoctor } from '../../interpreter/index.js';
import { parseCommandLine, type Command } from '../command.js';

const help = `Usage: cir sandbox doctor [--json]

Checks what the Python sandbox needs (Linux, bubblewrap, root for per-snippet uids, namespaces,
Debian python3 with sympy/numpy/scipy/mpmath/seccomp), then runs snippets end to end: a print,
a refused subprocess (seccomp), a refused connection to a listener it opens on the host's loopback
(no packet goes anywhere else), and reports how each snippet's memory is bounded with all its
descendants: cgroup-v1 or cgroup-v2 (a memory cgroup per snippet and per session), or no-fork where
no cgroup is available (one-shot snippets cannot create processes, so RLIMIT_AS bounds them).
Exit code: 0 when full isolation works, 1 otherwise.

Options:
  --json   print the report as JSON`;

export const sandboxDoctorCommand: Command = {
  name: 'sandbox doctor',
  summary: 'report what isolation the Python sandbox has and why',
  help,
  async run(argv) {
    const { values } = parseCommandLine(argv, { json: { type: 'boolean' } }, false);
    const report = await sandboxDoctor();
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      for (const check of report.checks) process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name.padEnd(16)} ${check.detail}\n`);
      process.stdout.write(`isolation: ${report.isolation}${report.memory_bound ? `, memory bound: ${report.memory_bound}` : ''}\n`);
      for (const line of report.advice) process.stdout.write(`advice: ${line}\n`);
    }
    return report.ok ? 0 : 1;
  },
};
