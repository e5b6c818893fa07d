/** `cir bench sandbox`: sandbox throughput and latency beside a fresh-process baseline, in one run. */
import { benchSandbox, DEFAULT_CONCURRENCY, DEFAULT_PRELOAD, type BenchCase } from '../../interpreter/index.js';
import { numberFlag, parseCommandLine, type Command } from '../command.js';

const help = `Usage: cir bench sandbox [--json] [--n N] [--concurrency C] [--preload LIST]

Measures snippets per second and p50/p99 latency through the jailed fork server for a trivial
snippet (print(1+1)), a sympy solve and a realistic mix (mostly light code, some sympy and numpy,
a few errors, 1% timeouts at 500 ms), each beside the bare limit (one python3 that imported the same
modules as the server, "imported", forking a child per snippet, no jail, same concurrency: the fork
baseline, and the sandbox's ratio to it, goal 0.85) in alternating chunks of the same snippets, so a machine whose speed drifts slows both
alike; then session blocks (one session per slot in flight), a fresh python3 per snippet (the baseline),
and the memory of an idle session. The load average
at the start and end is reported: figures from a busy machine need a quiet re-run.

Options:
  --n N              trivial snippets (sympy and session blocks N/4, mixed N/2, the fresh-process baseline N/20;
                     default 400)
  --concurrency C    snippets in flight (default ${DEFAULT_CONCURRENCY})
  --preload LIST     comma-separated packages the server imports once (default ${DEFAULT_PRELOAD.join(',')};
                     an empty LIST preloads nothing)
  --json             print the report as JSON:
                     {"cases":[{"name","per_s","p50_ms","p99_ms","cpu_ms":{"sandbox","node"},...}],"fork_baseline":[...],
                      "vs_fork_baseline":{"trivial",...},"vs_fork_baseline_cpu":{...},"baseline":[...],
                      "idle_session_mb":N,"machine":{"load_start",...},...}
                     cpu_ms is CPU time per snippet (the jailed server and its snippet processes; this
                     process), which other load on the machine inflates far less than the wall clock`;

export const benchSandboxCommand: Command = {
  name: 'bench sandbox',
  summary: 'sandbox snippets/s and latency vs a fresh python per snippet',
  help,
  async run(argv) {
    const { values } = parseCommandLine(argv, { json: { type: 'boolean' }, n: { type: 'string' }, concurrency: { type: 'string' }, preload: { type: 'string' } }, false);
    const n = numberFlag(values.n, 'n', 400, 10, 100_000);
    const concurrency = numberFlag(values.concurrency, 'concurrency', DEFAULT_CONCURRENCY, 1, 64);
    const report = await benchSandbox({
      n,
      concurrency,
      ...(values.preload !== undefined ? { sandbox: { preload: values.preload.split(',').filter(Boolean) } } : {}),
      onProgress: (label) => {
        if (!values.json) process.stderr.write(`bench sandbox: ${label}\n`);
      },
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return 0;
    }
    const row = (c: BenchCase) =>
      `  ${c.name.padEnd(8)} ${String(c.per_s).padStart(8)}/s   p50 ${String(c.p50_ms).padStart(7)} ms   p99 ${String(c.p99_ms).padStart(7)} ms` +
      `${c.cpu_ms ? `   cpu/snippet ${c.cpu_ms.sandbox} ms sandbox + ${c.cpu_ms.node} ms node` : ''}\n`;
    process.stdout.write(`sandbox (concurrency ${report.concurrency}, server start ${report.server_start_ms} ms):\n`);
    report.cases.forEach((c) => process.stdout.write(row(c)));
    if (report.session) process.stdout.write(row(report.session));
    process.stdout.write(`fork baseline (one python forking a child per snippet, no jail, ${report.concurrency} in flight):\n`);
    report.fork_baseline.forEach((c) => process.stdout.write(row(c)));
    const ratios = (table: Record<string, number>) => Object.entries(table).map(([name, ratio]) => `${name} ${ratio}`).join(', ');
    process.stdout.write(`sandbox / fork baseline: ${ratios(report.vs_fork_baseline)} in snippets/s, ${ratios(report.vs_fork_baseline_cpu)} in CPU per snippet (goal 0.85)\n`);
    process.stdout.write('baseline (fresh python per snippet, 2 in flight):\n');
    report.baseline.forEach((c) => process.stdout.write(row(c)));
    process.stdout.write(`idle session: ${report.idle_session_mb} MB private (USS), ${report.idle_session_pss_mb} MB PSS\n`);
    process.stdout.write(`load average: ${report.machine.load_start.join(' ')} at the start, ${report.machine.load_end.join(' ')} at the end\n`);
    return 0;
  },
};
