/** `cir view DIR`: browse a run's trajectories in a local web page. */
import { startViewer } from '../../eval/viewer.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';

const help = `Usage: cir view DIR [--port N] [--host ADDR --allow-remote] [--allowed-hosts LIST] [--json]

Serves a page to browse an eval run: filter samples by correctness, benchmark, subject, tool outcome
and status; read each trajectory with prose, code, interpreter output and the grader's verdict set
apart. Model output is shown as text, never as markup. Listens on 127.0.0.1 (port 8377 by default;
0 picks a free one) and serves only the run's own files. Works while a run is still writing.

Options:
  --port N          port (default 8377)
  --host ADDR       listen address (default 127.0.0.1)
  --allow-remote    required for a non-loopback --host: anyone who reaches it can read the run
  --allowed-hosts LIST
                    comma-separated host names to serve besides localhost and IP addresses (the
                    Host header is checked: a DNS-rebinding web page cannot read the run)
  --json            print {"url": ...} when listening
`;

export const viewCommand: Command = {
  name: 'view',
  summary: 'browse an eval run in a local web page',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      'allowed-hosts': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 1 || !positionals[0]) throw new UsageError('give exactly one run directory');
    const viewer = await startViewer({
      dir: positionals[0],
      port: numberFlag(values.port, 'port', 8377, 0, 65535),
      ...(values.host ? { host: values.host } : {}),
      allowRemote: Boolean(values['allow-remote']),
      ...(values['allowed-hosts'] !== undefined ? { allowedHosts: values['allowed-hosts'].split(',').map((h) => h.trim()).filter((h) => h !== '') } : {}),
    });
    process.stdout.write(values.json ? `${JSON.stringify({ url: viewer.url })}\n` : `viewing ${positionals[0]} at ${viewer.url} (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await viewer.close();
    return 0;
  },
};
