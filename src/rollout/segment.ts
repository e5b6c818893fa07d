/**
 * One model turn of a trajectory: ask the engine for a continuation, watch the text for its boundary
 * (the end of the first code block, or under the heuristic mode a stop string), and cut there at a
 * token boundary. Streaming engines are stopped the moment the boundary is reached; non-streaming
 * ones get stop strings. In the precise mode the result is verified (and resumed when the stop
 * string fired on something that was not a python block's end); the heuristic takes any stop as final.
 */
import { CirError } from '../core/errors.js';
import type { SamplingEngine, SamplingParams, FinishReason } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { BoundaryDetector, HEURISTIC_STOPS, type BoundaryMode, type CodeBlock, type FenceOptions, type SegmentBoundary } from './boundary.js';
import { IncrementalDecoder } from './incremental-decoder.js';

export interface SegmentRequest {
  engine: SamplingEngine;
  tokenizer: Tokenizer;
  context: readonly number[];
  params: SamplingParams;
  /** Look for the boundary and cut after it. */
  detect: boolean;
  /** `precise` (default): the first complete python block; `stop-strings`: the heuristic stop strings. */
  boundary?: BoundaryMode;
  fence: FenceOptions;
  useStreaming: boolean;
  /** Stop strings for non-streaming engines in the precise mode; a hit that ends no python block is resumed. */
  verifyStops: readonly string[];
  signal?: AbortSignal;
  onText?: (delta: string) => void;
  /** Adds the time spent in our own processing (decoding, scanning), for the overhead figure. */
  onWork?: (ms: number) => void;
}

export interface SegmentResult {
  /** Kept tokens, exactly as sampled (or re-encoded in text mode). */
  tokens: number[];
  logprobs: number[] | null;
  /** Display text of the kept tokens. */
  text: string;
  /** The code block to execute, with offsets into `text`; null when the segment is final. */
  block: CodeBlock | null;
  /** The heuristic stop string that ended the segment, null otherwise (the precise mode never sets it). */
  stop: string | null;
  /** Offset in `text` where the boundary ends (the text after it is what the cut token carried past it). */
  boundaryEnd: number | null;
  finishReason: FinishReason;
  /** Tokens the engine produced past the cut (streaming overshoot or generate-then-cut waste). */
  droppedTokens: number;
  /** Engine calls made (more than one when a non-streaming stop string had to be resumed). */
  calls: number;
  tokenExact: boolean;
}

/** Accumulates sampled tokens and finds the cut. */
class SegmentBuilder {
  readonly decoder: IncrementalDecoder;
  readonly tokens: number[] = [];
  readonly logprobs: number[] = [];
  hasLogprobs = true;
  boundary: SegmentBoundary | null = null;
  private readonly detector: BoundaryDetector | null;
  private emitted = 0;

  constructor(
    private readonly request: SegmentRequest,
  ) {
    this.decoder = new IncrementalDecoder(request.tokenizer);
    this.detector = request.detect ? new BoundaryDetector(request.boundary ?? 'precise', request.fence) : null;
  }

  /** Adds tokens; returns true when the segment is cut (a block closed). */
  add(tokens: readonly number[], logprobs: readonly number[] | null): boolean {
    const started = performance.now();
    if (logprobs === null || logprobs.length !== tokens.length) this.hasLogprobs = false;
    let cut = false;
    for (let i = 0; i < tokens.length; i += 1) {
      const token = tokens[i] as number;
      this.tokens.push(token);
      if (this.hasLogprobs && logprobs) this.logprobs.push(logprobs[i] as number);
      const before = this.decoder.text.length;
      const piece = this.decoder.push(token);
      const boundary = this.detector?.mayDecide(piece) ? this.detector.check(this.decoder.text, before) : null;
      if (boundary) {
        this.boundary = boundary;
        const keep = this.decoder.tokenIndexCovering(boundary.end) + 1;
        this.tokens.length = keep;
        if (this.hasLogprobs) this.logprobs.length = keep;
        cut = true;
        break;
      }
    }
    this.emit();
    this.request.onWork?.(performance.now() - started);
    return cut;
  }

  private emit(): void {
    if (!this.request.onText) return;
    const limit = this.boundary ? this.boundary.end : this.decoder.text.length;
    if (limit > this.emitted) {
      this.request.onText(this.decoder.text.slice(this.emitted, limit));
      this.emitted = limit;
    }
  }
}

export async function generateSegment(request: SegmentRequest): Promise<SegmentResult> {
  const { engine } = request;
  if (engine.tokenExact === false) return generateTextSegment(request);
  const builder = new SegmentBuilder(request);
  let produced = 0;
  let finishReason: FinishReason = 'length';
  let calls = 0;

  if (request.useStreaming && engine.stream) {
    calls = 1;
    const stream = engine.stream({
      promptTokens: request.context,
      params: request.params,
      ...(request.signal ? { signal: request.signal } : {}),
    });
    // Breaking out of the loop closes the stream, which aborts the request: no tokens are wasted.
    for await (const chunk of stream) {
      produced += chunk.tokens.length;
      if (builder.add(chunk.tokens, chunk.logprobs)) {
        finishReason = 'stop';
        break;
      }
      if (chunk.finishReason) finishReason = chunk.finishReason;
    }
  } else {
    let remaining = request.params.maxTokens;
    while (remaining > 0) {
      calls += 1;
      const params: SamplingParams = { ...request.params, maxTokens: remaining };
      const precise = (request.boundary ?? 'precise') === 'precise';
      const stops = !request.detect ? [] : precise ? request.verifyStops : Object.keys(HEURISTIC_STOPS);
      if (stops.length > 0) params.stop = [...(request.params.stop ?? []), ...stops];
      const [sequence] = await engine.sample({
        promptTokens: [...request.context, ...builder.tokens],
        params,
        n: 1,
        ...(request.signal ? { signal: request.signal } : {}),
      });
      if (!sequence) throw new CirError(`engine ${engine.name} returned no sequence`);
      produced += sequence.tokens.length;
      remaining -= sequence.tokens.length;
      finishReason = sequence.finishReason;
      if (builder.add(sequence.tokens, sequence.logprobs)) {
        finishReason = 'stop';
        break;
      }
      // The heuristic takes whatever ended generation as the segment's end.
      if (!precise) break;
      // Verification: a stop string of ours fired but no python block is complete (e.g. the close of
      // an unlabeled fence). The prefix is kept token-exact and generation resumes from it.
      const ourStop = typeof sequence.stopReason === 'string' && stops.includes(sequence.stopReason);
      if (!(sequence.finishReason === 'stop' && ourStop && sequence.tokens.length > 0)) break;
    }
  }
  const tokens = builder.tokens;
  return {
    tokens,
    logprobs: builder.hasLogprobs ? builder.logprobs : null,
    text: request.tokenizer.decode(tokens),
    block: builder.boundary?.block ?? null,
    stop: builder.boundary?.stop ?? null,
    boundaryEnd: builder.boundary?.end ?? null,
    finishReason,
    droppedTokens: produced - tokens.length,
    calls,
    tokenExact: true,
  };
}

/**
 * Text mode, for servers that cannot take or return token ids: the cut is made on the server's text,
 * and the kept text is re-encoded with our tokenizer. The ids may differ from what the model sampled
 * (BPE is not a bijection); the trajectory is marked `tokenExact: false`.
 */
async function generateTextSegment(request: SegmentRequest): Promise<SegmentResult> {
  const { engine, tokenizer } = request;
  let text = '';
  let produced = 0;
  let finishReason: FinishReason = 'length';
  let stopReason: string | number | null | undefined;
  let boundary: SegmentBoundary | null = null;
  const detector = request.detect ? new BoundaryDetector(request.boundary ?? 'precise', request.fence) : null;
  let checked = 0;
  let emitted = 0;
  const consider = (): boolean => {
    const from = checked;
    checked = text.length;
    if (!detector?.mayDecide(text.slice(from))) return false;
    boundary = detector.check(text, from);
    return boundary !== null;
  };
  const emit = () => {
    const limit = boundary ? boundary.end : text.length;
    if (request.onText && limit > emitted) request.onText(text.slice(emitted, limit));
    emitted = Math.max(emitted, limit);
  };
  if (request.useStreaming && engine.stream) {
    for await (const chunk of engine.stream({ promptTokens: request.context, params: request.params, ...(request.signal ? { signal: request.signal } : {}) })) {
      produced += chunk.tokens.length;
      text += chunk.text ?? '';
      if (consider()) {
        finishReason = 'stop';
        emit();
        break;
      }
      emit();
      if (chunk.finishReason) {
        finishReason = chunk.finishReason;
        stopReason = chunk.stopReason;
      }
    }
  } else {
    const [sequence] = await engine.sample({ promptTokens: request.context, params: request.params, n: 1, ...(request.signal ? { signal: request.signal } : {}) });
    if (!sequence) throw new CirError(`engine ${engine.name} returned no sequence`);
    text = sequence.text ?? tokenizer.decode(sequence.tokens);
    produced = sequence.tokens.length;
    finishReason = sequence.finishReason;
    stopReason = sequence.stopReason;
    if (consider()) finishReason = 'stop';
    emit();
  }
  const found = boundary as SegmentBoundary | null;
  const kept = found ? text.slice(0, found.end) : text;
  const tokens = tokenizer.encode(kept);
  // The server drops the EOS token from its text; put it back so the model's stop is in the record.
  if (!found && finishReason === 'stop' && (stopReason === null || stopReason === undefined)) tokens.push(tokenizer.eosTokenId);
  return {
    tokens,
    logprobs: null,
    text: tokenizer.decode(tokens),
    block: found?.block ?? null,
    stop: found?.stop ?? null,
    boundaryEnd: found?.end ?? null,
    finishReason,
    droppedTokens: Math.max(0, produced - tokens.length),
    calls: 1,
    tokenExact: false,
  };
}
