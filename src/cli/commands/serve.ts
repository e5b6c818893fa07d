/** `cir serve`: the embedded model over the OpenAI-compatible completions API and the Tinker training subset. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../../core/errors.js';
import { openPolicyBackend } from '../../backends/index.js';
import type { Tokenizer } from '../../core/tokenizer.js';
import { charTokenizerFiles, DEFAULT_CHECKPOINT_PATH } from '../../model/index.js';
import type { ServedModelDescription } from '../../serve/model-info.js';
import { HfTokenizer } from '../../tokenizers/index.js';
import { DEFAULT_MAX_CONCURRENT_SAMPLING, startServer, type RunningServer } from '../../serve/server.js';
import { DEFAULT_CONNECTION_LIMITS } from '../../serve/http.js';
import { DEFAULT_TINKER_CAPS } from '../../serve/tinker-api.js';
import { isLoopbackHost } from '../../serve/http.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';

const help = `Usage: cir serve [--port N] [--checkpoint PATH] [--host H --api-key-env VAR] [options]

Serves the embedded model over HTTP:
  OpenAI-compatible (as vLLM):  POST /v1/completions (token ids or text in, token_ids/logprobs out,
                                n, stop, stop_token_ids, stream), GET /v1/models, GET /health
  Tinker subset:                /api/v1/create_session, create_model, forward, forward_backward,
                                optim_step, save_weights, save_weights_for_sampler, load_weights,
                                create_sampling_session, asample, retrieve_future, ...
Prints the address when ready; Ctrl-C stops it.

Options:
  --port N                 port (default 8000; 0 picks a free one)
  --host H                 address to listen on (default 127.0.0.1). Anything but loopback
                           requires --api-key-env; every request must then carry the key as
                           "Authorization: Bearer KEY" or "X-API-Key: KEY"
  --api-key-env VAR        environment variable holding the API key
  --checkpoint PATH        checkpoint directory to serve (default: the committed warm start)
  --random-init            serve a freshly initialised model instead of a checkpoint
  --tokenizer DIR          the model's vocabulary: a Hugging Face tokenizer.json folder (default the
                           embedded char tokenizer); with --random-init the model is built over it,
                           with --checkpoint the checkpoint must have been trained over it
  --context-length N       context window of a --random-init model (default 384)
  --checkpoint-dir DIR     where Tinker save_weights writes and load_weights reads; every path
                           over the API is confined to it (default runs/serve/checkpoints)
  --model-name NAME        name clients use as "model"/"base_model" (default cir-embedded)
  --max-body-mb N          largest request body (default 32)
  --max-n N                largest n / num_samples (default 64)
  --max-tokens N           largest max_tokens (default: the context window)
  --max-prompt-tokens N    longest prompt (default: the context window)
  --session-timeout S      Tinker sessions idle this long expire (default 300)
  --max-models N           Tinker models trained at once, each on its own copy of the model
                           (default 2: a policy and its KL reference)
  --allowed-hosts LIST     comma-separated host names served besides localhost and IP addresses (the Host
                           header is checked against DNS rebinding); '*' for any, behind a proxy
  --max-connections N      connections open at once (default 256)
  --headers-timeout MS     time to receive a request's headers (default 20000)
  --request-timeout MS     time to receive a whole request body (default 120000; not the answer)
  --max-sessions N         Tinker sessions kept (default 256; past a cap the oldest finished or idle
                           entry goes, else 429)
  --max-futures N          Tinker futures kept (default 10000; finished ones go first)
  --max-sampling-sessions N
                           Tinker sampling sessions kept (default 4096)
  --max-parked-requests N  Tinker training requests of one model waiting for earlier seq_ids
                           (default 64; further ahead gets 429)
  --max-concurrent-sampling N
                           completion requests generating at once; more get 429 (default 64)
  --json                   print the ready line as JSON

Requests from web pages are refused: a Host that is not loopback or allowed, a browser Origin
that is not this server, and bodies that are not JSON (or protobuf on Tinker forward_backward).
`;

/** What /cir/v1/model_info states: a Hugging Face vocabulary's files and chat template, or the char model's. */
function describeServedModel(tokenizer: Tokenizer): ServedModelDescription {
  if (tokenizer instanceof HfTokenizer) return { promptFormat: tokenizer.chatTemplate !== null ? 'chat' : 'raw', tokenizerFiles: tokenizer.files() };
  return { promptFormat: 'tasks', tokenizerFiles: charTokenizerFiles() };
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the embedded model over OpenAI-compatible and Tinker APIs',
  help,
  async run(argv) {
    const { values } = parseCommandLine(
      argv,
      {
        port: { type: 'string' },
        host: { type: 'string' },
        'api-key-env': { type: 'string' },
        checkpoint: { type: 'string' },
        'random-init': { type: 'boolean' },
        tokenizer: { type: 'string' },
        'context-length': { type: 'string' },
        'checkpoint-dir': { type: 'string' },
        'model-name': { type: 'string' },
        'max-body-mb': { type: 'string' },
        'max-n': { type: 'string' },
        'max-tokens': { type: 'string' },
        'max-prompt-tokens': { type: 'string' },
        'session-timeout': { type: 'string' },
        'max-models': { type: 'string' },
        'allowed-hosts': { type: 'string' },
        'max-connections': { type: 'string' },
        'headers-timeout': { type: 'string' },
        'request-timeout': { type: 'string' },
        'max-concurrent-sampling': { type: 'string' },
        'max-sessions': { type: 'string' },
        'max-futures': { type: 'string' },
        'max-sampling-sessions': { type: 'string' },
        'max-parked-requests': { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    const port = numberFlag(values.port, 'port', 8000, 0, 65535);
    let apiKey: string | undefined;
    if (values['api-key-env'] !== undefined) {
      apiKey = process.env[values['api-key-env']];
      if (!apiKey) throw new UsageError(`--api-key-env ${values['api-key-env']}: that environment variable is empty or unset`);
    }
    if (values.checkpoint !== undefined && values['random-init']) throw new UsageError('give --checkpoint or --random-init, not both');
    if (values.host !== undefined && !isLoopbackHost(values.host) && apiKey === undefined) {
      throw new UsageError(`--host ${values.host} is not loopback: give --api-key-env VAR so every request must carry a key`);
    }
    const checkpointDir = resolve(values['checkpoint-dir'] ?? 'runs/serve/checkpoints');
    const checkpoint = values.checkpoint ?? DEFAULT_CHECKPOINT_PATH;
    if (!values['random-init'] && !existsSync(checkpoint)) {
      throw new InputError('checkpoint not found (train one with `cir pretrain`, or serve --random-init)', checkpoint);
    }
    if (values['context-length'] !== undefined && !values['random-init']) throw new UsageError('--context-length sizes a --random-init model; a checkpoint has its own');
    const contextLength = values['context-length'] !== undefined ? numberFlag(values['context-length'], 'context-length', 384, 8, 32768) : undefined;
    if (contextLength !== undefined && !Number.isInteger(contextLength)) throw new UsageError('--context-length must be an integer');
    const openBackend = () =>
      openPolicyBackend(
        { kind: 'embedded', checkpoint },
        {
          checkpointDir,
          randomInit: Boolean(values['random-init']),
          ...(values.tokenizer !== undefined ? { tokenizer: values.tokenizer } : {}),
          ...(contextLength !== undefined ? { contextLength } : {}),
        },
      );
    const maxModels = numberFlag(values['max-models'], 'max-models', 2, 1, 16);
    const opened = await openBackend();
    const { backend, tokenizer } = opened;
    // Each further Tinker model (a KL reference, another run) trains a copy of its own; the server closes them.
    const makeBackend = async () => (await openBackend()).backend;
    const limits: Record<string, number> = {};
    if (values['max-body-mb'] !== undefined) limits['maxBodyBytes'] = numberFlag(values['max-body-mb'], 'max-body-mb', 32, 0.001, 4096) * 1024 * 1024;
    if (values['max-n'] !== undefined) limits['maxN'] = limits['maxSamples'] = numberFlag(values['max-n'], 'max-n', 64, 1, 4096);
    if (values['max-tokens'] !== undefined) limits['maxTokens'] = numberFlag(values['max-tokens'], 'max-tokens', backend.contextWindow, 1, backend.contextWindow);
    if (values['max-prompt-tokens'] !== undefined) limits['maxPromptTokens'] = numberFlag(values['max-prompt-tokens'], 'max-prompt-tokens', backend.contextWindow, 1, backend.contextWindow);
    const modelName = values['model-name'] ?? 'cir-embedded';
    let server: RunningServer;
    try {
      server = await startServer({
      backend,
      tokenizer,
      modelInfo: describeServedModel(tokenizer),
      modelName,
      checkpointDir,
      port,
      ...(values.host !== undefined ? { host: values.host } : {}),
      ...(apiKey !== undefined ? { apiKey } : {}),
      limits,
      sessionTimeoutMs: numberFlag(values['session-timeout'], 'session-timeout', 300, 1) * 1000,
      createBackend: makeBackend,
      maxModels,
      ...(values['allowed-hosts'] !== undefined ? { allowedHosts: values['allowed-hosts'].split(',').map((h) => h.trim()).filter((h) => h !== '') } : {}),
      connections: {
        maxConnections: numberFlag(values['max-connections'], 'max-connections', DEFAULT_CONNECTION_LIMITS.maxConnections, 1, 1_000_000),
        headersTimeoutMs: numberFlag(values['headers-timeout'], 'headers-timeout', DEFAULT_CONNECTION_LIMITS.headersTimeoutMs, 100, 3_600_000),
        requestTimeoutMs: numberFlag(values['request-timeout'], 'request-timeout', DEFAULT_CONNECTION_LIMITS.requestTimeoutMs, 100, 3_600_000),
      },
      tinkerCaps: {
        maxSessions: numberFlag(values['max-sessions'], 'max-sessions', DEFAULT_TINKER_CAPS.maxSessions, 1, 1_000_000),
        maxFutures: numberFlag(values['max-futures'], 'max-futures', DEFAULT_TINKER_CAPS.maxFutures, 1, 10_000_000),
        maxSamplingSessions: numberFlag(values['max-sampling-sessions'], 'max-sampling-sessions', DEFAULT_TINKER_CAPS.maxSamplingSessions, 1, 10_000_000),
        maxParkedRequests: numberFlag(values['max-parked-requests'], 'max-parked-requests', DEFAULT_TINKER_CAPS.maxParkedRequests, 1, 100_000),
      },
      maxConcurrentSampling: numberFlag(values['max-concurrent-sampling'], 'max-concurrent-sampling', DEFAULT_MAX_CONCURRENT_SAMPLING, 1, 1_000_000),
      });
    } catch (error) {
      await opened.close();
      throw error;
    }
    const ready = { url: server.url, model: modelName, context_window: backend.contextWindow, checkpoint: values['random-init'] ? null : checkpoint, checkpoint_dir: checkpointDir, auth: apiKey !== undefined };
    process.stdout.write(values.json ? `${JSON.stringify(ready)}\n` : `cir serve: listening on ${server.url} (model ${modelName}, context ${backend.contextWindow} tokens${apiKey ? ', API key required' : ''})\n`);
    await new Promise<void>((resolveStop) => {
      const stop = () => resolveStop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await opened.close();
    return 0;
  },
};
