/** `cir eval`: runs benchmarks under a protocol into a run directory, resumable, with live accuracy. */
import { renderPrompt as renderTaskPrompt } from '../../tasks/index.js';
import { join } from 'node:path';
import { InputError } from '../../core/errors.js';
import type { CodeExecutor } from '../../core/execution.js';
import { ENGINE_GRAMMAR, formatSandboxSpec, openExecutor, openSamplingEngine, parseEngineSpec, parseSandboxSpec, SANDBOX_GRAMMAR } from '../../backends/index.js';
import { loadBenchmark, type Benchmark, type PresetOptions } from '../../datasets/index.js';
import { presetSettings } from '../../eval/presets.js';
import { PROTOCOLS, resolveSettings, toolBudget, type SettingsOverrides } from '../../eval/protocol.js';
import type { ChatMessage } from '../../prompts/index.js';
import { BOUNDARY_MODES, type BoundaryMode } from '../../rollout/index.js';
import { intervalText, percent, writeReport } from '../../eval/report.js';
import { openRun } from '../../eval/run-store.js';
import { listTasks, runEvaluation } from '../../eval/runner.js';
import { leftOutNote } from '../../eval/summary.js';
import { createGrader, createSolver, DEFAULT_GRADE_ATTEMPTS, promptTokens } from '../../eval/wiring.js';
import { numberFlag, oneOf, parseCommandLine, UsageError, type Command } from '../command.js';
import { ProgressBar } from '../progress.js';

const help = `Usage: cir eval --engine ENGINE [--model NAME] --benchmark NAME|PATH[,...] --out DIR [options]

Evaluates a model on benchmarks with code-integrated reasoning (or text only), appending one
record per finished sample to DIR/results.jsonl (problem_id, sample, correct, full trajectory,
verdict), then writes DIR/summary.json, report.md and report.html. Killed runs continue with --resume:
finished samples are kept, none is run twice.

Benchmarks: aime24, aime25, math500, amc23, olymmath (= olymmath_easy), olymmath_hard (files in
--data-dir, $CIR_DATA_DIR, or ../shared/datasets beside the repository); a .jsonl or verl-layout
.parquet path; or hf:OWNER/NAME/PATH[@REV] (Hugging Face Hub, cached).

Presets with their own prompts and grading (both modes: direct with --text-only, else code-integrated):
  minerva        Minerva Math: the boxed answer or any alt_answers, relative tolerance 1e-4
  olympiadbench  OlympiadBench: every final answer must match, units removed, stated tolerance
  gpqa           GPQA-Diamond: four choices in the record's order, graded by letter; the question
                 text is kept out of results and reports (ids only) unless --store-confidential-text
  livecodebench  LiveCodeBench: the final program is run against every test in the sandbox (pass@k
                 by difficulty and contest month); the code-integrated model may run code on the
                 public examples within the tool budget; the copy here has public tests only, so its
                 results are marked "not comparable with published LiveCodeBench numbers"
A preset reads NAME's file from the data directory, a .jsonl named after it (gpqa_diamond.jsonl
anywhere), or NAME=PATH (e.g. gpqa=/private/gpqa.jsonl). livecodebench=hub[:release_vN] loads the
complete tests (hidden ones too) from the Hugging Face copy (default release_v5; cached in
$CIR_CACHE_DIR/hub or ~/.cache/cir/hub; $HF_ENDPOINT, $HF_TOKEN): comparable with published numbers.

Protocols (--protocol, default cir-paper):
${Object.entries(PROTOCOLS)
  .map(([name, p]) => `  ${name.padEnd(10)} ${p.description}`)
  .join('\n')}

Engines (--engine):
${ENGINE_GRAMMAR.replace(/^/gm, '  ')}

Sandboxes (--sandbox):
${SANDBOX_GRAMMAR.replace(/^/gm, '  ')}

Options:
  --engine ENGINE       the model (above)
  --model NAME          served model name (server engines)
  --tokenizer DIR|ID    tokenizer folder or Hub id (default: --model)
  --wire tokens|text    exact token ids (default) or text for OpenAI-compatible servers without ids
  --context-window N    the server's max model length in tokens (default 32768)
  --sandbox SANDBOX     where code runs (default local)
  --out DIR             run directory (required)
  --resume              continue the run in DIR (the settings must be the same)
  --benchmark LIST      comma-separated; repeatable
  --data-dir DIR        where built-in benchmark files live
  --text-only           no interpreter: the text prompt, 0 tool calls (code-vs-text comparisons)
  --chat                wrap the prompt in the tokenizer's chat template (chat models such as Qwen3)
  --thinking            Qwen3 enable_thinking=true with --chat (default false, as the paper)
  --samples N  --temperature T  --top-p P  --top-k K  --max-tokens N (per call)
  --max-tool-calls N    tool budget        --tool-timeout-ms N   per executed block
  --seed N              base seed (each sample's seed derives from it)
  --strict              no last-number fallback in grading
  --boundary precise|stop-strings   where a turn ends to run its code: after the first complete python
                        block (default, the paper) or at the stop strings the paper's code used before
  --limit N             only the first N problems of each benchmark
  --concurrency N       samples in flight (default 8)
  --sandbox-workers N   interpreter processes, or requests in flight to SandboxFusion (default 2)
  --store-confidential-text  also store GPQA prompts in results.jsonl (default: ids, lengths, hashes)
  --judge-timeout-ms N  LiveCodeBench wall-clock limit per test (default 6000)
  --judge-memory-mb N   LiveCodeBench address-space limit per test (default 2048)
  --lcb-start DATE  --lcb-end DATE   LiveCodeBench contest-date window (YYYY-MM-DD, inclusive)
  --grade-attempts N    grading attempts when the sandbox fails (default ${DEFAULT_GRADE_ATTEMPTS}); then the run
                        stops and --resume grades the sample again (never counted wrong)
  --no-report           skip writing the report at the end
  --json                print the summary as JSON
`;

export const evalCommand: Command = {
  name: 'eval',
  summary: 'evaluate a model on math, GPQA and LiveCodeBench benchmarks (cir-paper protocol, resumable runs)',
  help,
  async run(argv) {
    const { values } = parseCommandLine(
      argv,
      {
        engine: { type: 'string' },
        model: { type: 'string' },
        tokenizer: { type: 'string' },
        wire: { type: 'string' },
        'context-window': { type: 'string' },
        out: { type: 'string' },
        resume: { type: 'boolean' },
        benchmark: { type: 'string', multiple: true },
        'data-dir': { type: 'string' },
        protocol: { type: 'string' },
        'text-only': { type: 'boolean' },
        chat: { type: 'boolean' },
        thinking: { type: 'boolean' },
        samples: { type: 'string' },
        temperature: { type: 'string' },
        'top-p': { type: 'string' },
        'top-k': { type: 'string' },
        'max-tokens': { type: 'string' },
        'max-tool-calls': { type: 'string' },
        'tool-timeout-ms': { type: 'string' },
        boundary: { type: 'string' },
        seed: { type: 'string' },
        strict: { type: 'boolean' },
        limit: { type: 'string' },
        concurrency: { type: 'string' },
        'sandbox-workers': { type: 'string' },
        sandbox: { type: 'string' },
        'no-report': { type: 'boolean' },
        'store-confidential-text': { type: 'boolean' },
        'judge-timeout-ms': { type: 'string' },
        'judge-memory-mb': { type: 'string' },
        'lcb-start': { type: 'string' },
        'lcb-end': { type: 'string' },
        'grade-attempts': { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    if (!values.out) throw new UsageError('--out DIR is required');
    if (!values.engine) throw new UsageError(`--engine is required, one of:\n${ENGINE_GRAMMAR}`);
    const engineSpec = parseEngineSpec(values.engine);
    const sandboxSpec = parseSandboxSpec(values.sandbox ?? 'local');
    const specs = (values.benchmark ?? []).flatMap((b) => b.split(',')).map((b) => b.trim()).filter(Boolean);
    if (specs.length === 0) throw new UsageError('--benchmark is required');
    const wire = values.wire ?? 'tokens';
    if (wire !== 'tokens' && wire !== 'text') throw new UsageError('--wire must be tokens or text');

    const overrides: SettingsOverrides = {
      ...(values['text-only'] ? { mode: 'text' as const } : {}),
      ...(values.chat ? { promptFormat: 'chat' as const } : {}),
      ...(values.samples !== undefined ? { samples: numberFlag(values.samples, 'samples', 1, 1, 1e6) } : {}),
      ...(values.temperature !== undefined ? { temperature: numberFlag(values.temperature, 'temperature', 1, 0, 10) } : {}),
      ...(values['top-p'] !== undefined ? { topP: numberFlag(values['top-p'], 'top-p', 1, 0, 1) } : {}),
      ...(values['top-k'] !== undefined ? { topK: numberFlag(values['top-k'], 'top-k', -1, -1, 1e6) } : {}),
      ...(values['max-tokens'] !== undefined ? { maxTokensPerCall: numberFlag(values['max-tokens'], 'max-tokens', 1, 1, 1e7) } : {}),
      ...(values['max-tool-calls'] !== undefined ? { maxToolCalls: numberFlag(values['max-tool-calls'], 'max-tool-calls', 0, 0, 1000) } : {}),
      ...(values['tool-timeout-ms'] !== undefined ? { toolTimeoutMs: numberFlag(values['tool-timeout-ms'], 'tool-timeout-ms', 1, 1, 1e7) } : {}),
      ...(values.seed !== undefined ? { seed: numberFlag(values.seed, 'seed', 0, 0, 2 ** 31) } : {}),
      ...(values.strict ? { lenientGrading: false } : {}),
      ...(values.boundary !== undefined ? { boundary: oneOf<BoundaryMode>(values.boundary, 'boundary', BOUNDARY_MODES, 'precise') } : {}),
      ...(values.limit !== undefined ? { problemLimit: numberFlag(values.limit, 'limit', 1, 1, 1e9) } : {}),
    };
    const concurrency = numberFlag(values.concurrency, 'concurrency', 8, 1, 4096);
    const dataDir = values['data-dir'] || process.env['CIR_DATA_DIR'] || undefined;
    const protocol = values.protocol ?? 'cir-paper';
    const presetOptions: PresetOptions = {
      // The code-integrated LiveCodeBench prompt states the budget, so it is known before loading.
      maxToolCalls: toolBudget(protocol, overrides),
      judge: {
        ...(values['judge-timeout-ms'] !== undefined ? { timeoutMs: numberFlag(values['judge-timeout-ms'], 'judge-timeout-ms', 6000, 1, 600_000) } : {}),
        ...(values['judge-memory-mb'] !== undefined ? { memoryMb: numberFlag(values['judge-memory-mb'], 'judge-memory-mb', 2048, 16, 1 << 20) } : {}),
      },
      ...(values['lcb-start'] !== undefined || values['lcb-end'] !== undefined
        ? { window: { ...(values['lcb-start'] !== undefined ? { start: values['lcb-start'] } : {}), ...(values['lcb-end'] !== undefined ? { end: values['lcb-end'] } : {}) } }
        : {}),
    };
    const gradeAttempts = numberFlag(values['grade-attempts'], 'grade-attempts', DEFAULT_GRADE_ATTEMPTS, 1, 100);
    const benchmarks: Benchmark[] = [];
    for (const spec of specs) benchmarks.push(await loadBenchmark(spec, { ...(dataDir !== undefined ? { dataDir } : {}), preset: presetOptions }));
    const settings = resolveSettings(
      protocol,
      benchmarks.map((b, i) => ({ name: b.name, spec: specs[i] ?? b.name })),
      overrides,
    );
    for (const [i, benchmark] of benchmarks.entries()) {
      const preset = presetSettings(benchmark, settings, { ...presetOptions, storeConfidentialText: Boolean(values['store-confidential-text']), gradeAttempts });
      const entry = settings.benchmarks[i];
      if (preset && entry) entry.preset = preset;
    }
    const needsExecutor = settings.mode === 'code' || benchmarks.some((b) => b.preset?.needsExecutor === true);

    const opened = await openSamplingEngine(engineSpec, {
      ...(values.model !== undefined ? { model: values.model } : {}),
      ...(values.tokenizer !== undefined ? { tokenizer: values.tokenizer } : {}),
      wire,
      wireExplicit: values.wire !== undefined,
      contextWindow: numberFlag(values['context-window'], 'context-window', 32768, 16, 1e8),
    });
    const { engine, tokenizer, chatTokenizer } = opened;
    if (opened.trainedPromptFormat === 'tasks' && settings.promptFormat === 'raw') {
      // A model trained by cir (embedded, or exported and loaded elsewhere) knows only the generated
      // tasks' compact prompt, which the export records: ask it in that format, not the paper's.
      settings.promptTemplate = renderTaskPrompt({ problem: '{question}' });
    }
    if (settings.promptFormat === 'chat' && chatTokenizer?.chatTemplate == null) {
      await opened.close();
      throw new InputError('--chat needs a tokenizer with a chat template', values.tokenizer ?? values.model ?? values.engine);
    }
    const encodeChat = chatTokenizer ? (messages: ChatMessage[]) => chatTokenizer.encodeChat(messages, { enableThinking: Boolean(values.thinking) }) : undefined;
    // A prompt that leaves no room for an answer is refused before anything runs, naming the sizes.
    for (const task of listTasks(benchmarks, settings)) {
      if (task.sample > 0 || (task.prompt.format === 'chat' && !encodeChat)) continue;
      const length = promptTokens(task.prompt, { tokenizer, ...(encodeChat ? { encodeChat } : {}) }).length;
      if (length >= engine.contextWindow) {
        await opened.close();
        throw new InputError(`the prompt of ${task.benchmark.name} problem ${task.problem.id} is ${length} tokens; the model's context window is ${engine.contextWindow} tokens, which leaves no room for an answer`, values.engine);
      }
    }
    const run = openRun(values.out, settings, {
      resume: Boolean(values.resume),
      environment: {
        ...opened.description,
        executor: needsExecutor ? formatSandboxSpec(sandboxSpec) : null,
        benchmarks: benchmarks.map((b) => ({
          name: b.name,
          source: b.source,
          problems: b.problems.length,
          duplicatesMerged: b.duplicatesMerged,
          ...(b.preset ? { preset: b.preset.name } : {}),
        })),
        node: process.version,
      },
    });
    // The sandbox starts only after the run directory is accepted, so a refused run exits at once.
    let executor: CodeExecutor | undefined;
    try {
      executor = needsExecutor ? await openExecutor(sandboxSpec, { concurrency: numberFlag(values['sandbox-workers'], 'sandbox-workers', 2, 1, 256) }) : undefined;
    } catch (error) {
      run.writer.close();
      await opened.close();
      throw error;
    }
    const json = Boolean(values.json);
    const progress = new ProgressBar({ label: 'eval', total: listTasks(benchmarks, settings).length, silent: json });
    const controller = new AbortController();
    const onSignal = (): void => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let interrupted = false;
    try {
      const outcome = await runEvaluation({
        benchmarks,
        settings,
        solve: createSolver(
          {
            engine,
            tokenizer,
            ...(executor ? { executor } : {}),
            ...(encodeChat ? { encodeChat } : {}),
          },
          settings,
        ),
        // LiveCodeBench's test runs share the rollouts' sandbox pool, so they queue rather than starve it.
        grade: createGrader(settings, { ...(executor ? { executor } : {}), gradeAttempts }),
        writer: run.writer,
        existing: run.existing.records,
        concurrency,
        signal: controller.signal,
        onRecord: (_record, p) => {
          progress.update(p.done, `acc ${percent(p.correct / Math.max(1, p.done))}% of ${p.total}`);
        },
      });
      interrupted = controller.signal.aborted;
      progress.finish(`${outcome.completed} new, ${outcome.skipped} resumed, acc ${percent(outcome.correct / Math.max(1, outcome.completed))}% on new`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      run.writer.close();
      await executor?.close();
      await opened.close();
    }
    if (interrupted) {
      process.stderr.write(`cir eval: interrupted; finished samples are in ${join(values.out, 'results.jsonl')}. Continue with the same command and --resume.\n`);
      return 130;
    }
    if (values['no-report']) return 0;
    const { summary, paths } = writeReport(values.out);
    if (json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      for (const b of summary.benchmarks) process.stdout.write(`${b.name.padEnd(16)} ${intervalText(b.accuracy)}  (${b.problems} problems × ${b.samplesPerProblem})\n`);
      process.stdout.write(`${'average'.padEnd(16)} ${percent(summary.averageAccuracy)}\nreport: ${paths.html}\n`);
      for (const caveat of summary.caveats) process.stdout.write(`caveat: ${caveat}\n`);
      const leftOut = leftOutNote(summary.infraFailuresLeftOut);
      if (leftOut) process.stdout.write(`note: ${leftOut}\n`);
    }
    return 0;
  },
};
