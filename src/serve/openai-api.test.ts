import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.js';
import { visibleText } from './openai-api.js';
import { charTokenizer } from '../model/tokenizer.js';
import { postJson, readEvents, startBigramServer, type BigramServer } from './testing/support.js';

interface Choice {
  index: number;
  text: string;
  finish_reason: string;
  stop_reason: string | number | null;
  token_ids?: number[];
  prompt_token_ids?: number[];
  logprobs: { tokens: string[]; token_logprobs: number[]; top_logprobs: Array<Record<string, number>>; text_offset: number[] } | null;
}
interface Completion {
  object: string;
  model: string;
  choices: Choice[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}
interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

let setup: BigramServer;
let url: string;
before(async () => {
  setup = await startBigramServer();
  url = setup.server.url;
});
after(() => setup.server.close());

const complete = (body: Record<string, unknown>) => postJson(`${url}/v1/completions`, { model: 'bigram-test', ...body });

test('health, models and version answer as vLLM does', async () => {
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), '');
  const models = (await (await fetch(`${url}/v1/models`)).json()) as { object: string; data: Array<{ id: string; max_model_len: number }> };
  assert.equal(models.object, 'list');
  assert.equal(models.data[0]?.id, 'bigram-test');
  assert.equal(models.data[0]?.max_model_len, 256);
});

test('token ids in, token ids and log-probs out, usage counted', async () => {
  const prompt = setup.tokenizer.encode('x = 3');
  const { status, json } = await complete({ prompt, max_tokens: 12, seed: 5, return_token_ids: true, logprobs: 0, ignore_eos: true });
  assert.equal(status, 200);
  const body = json as Completion;
  assert.equal(body.object, 'text_completion');
  const choice = body.choices[0] as Choice;
  assert.deepEqual(choice.prompt_token_ids, prompt);
  assert.equal(choice.token_ids?.length, 12);
  assert.equal(choice.finish_reason, 'length');
  assert.equal(choice.stop_reason, null);
  assert.equal(choice.text, setup.tokenizer.decode(choice.token_ids ?? [], { skipSpecialTokens: true }));
  assert.equal(choice.logprobs?.token_logprobs.length, 12);
  assert.ok(choice.logprobs?.token_logprobs.every((lp) => lp <= 0 && Number.isFinite(lp)));
  assert.deepEqual(choice.logprobs?.tokens, (choice.token_ids ?? []).map((id) => setup.tokenizer.decode([id])));
  assert.deepEqual(body.usage, { prompt_tokens: prompt.length, completion_tokens: 12, total_tokens: prompt.length + 12 });
});

test('the same seed gives the same tokens; n gives n indexed choices; text prompts are tokenized', async () => {
  const request = { prompt: 'a + b', max_tokens: 10, seed: 11, n: 3, return_token_ids: true, ignore_eos: true };
  const first = (await complete(request)).json as Completion;
  const second = (await complete(request)).json as Completion;
  assert.deepEqual(first.choices.map((c) => c.index), [0, 1, 2]);
  assert.deepEqual(first.choices.map((c) => c.token_ids), second.choices.map((c) => c.token_ids));
  assert.deepEqual(first.choices[0]?.prompt_token_ids, setup.tokenizer.encode('a + b'));
  const batch = (await complete({ prompt: ['ab', 'cd'], n: 2, max_tokens: 3, return_token_ids: true })).json as Completion;
  assert.deepEqual(batch.choices.map((c) => c.index), [0, 1, 2, 3]);
  assert.deepEqual(batch.choices[2]?.prompt_token_ids, setup.tokenizer.encode('cd'));
});

test('a stop token id ends generation, stays last in token_ids, is named in stop_reason and dropped from text', async () => {
  const prompt = setup.tokenizer.encode('q');
  const greedy = ((await complete({ prompt, max_tokens: 6, temperature: 0, return_token_ids: true, ignore_eos: true })).json as Completion).choices[0] as Choice;
  const ids = greedy.token_ids ?? [];
  const stopId = ids[2] as number;
  const cut = ids.indexOf(stopId) + 1;
  const stopped = ((await complete({ prompt, max_tokens: 6, temperature: 0, return_token_ids: true, stop_token_ids: [stopId], ignore_eos: true })).json as Completion).choices[0] as Choice;
  assert.deepEqual(stopped.token_ids, ids.slice(0, cut));
  assert.equal(stopped.finish_reason, 'stop');
  assert.equal(stopped.stop_reason, stopId);
  assert.equal(stopped.text, setup.tokenizer.decode(ids.slice(0, cut - 1)));
});

test('a stop string cuts the text before it (or after it when asked) and is named in stop_reason', async () => {
  const prompt = setup.tokenizer.encode('z');
  const greedy = ((await complete({ prompt, max_tokens: 20, temperature: 0, ignore_eos: true })).json as Completion).choices[0] as Choice;
  const stop = greedy.text.slice(4, 6);
  const at = greedy.text.indexOf(stop);
  const cut = ((await complete({ prompt, max_tokens: 20, temperature: 0, stop, return_token_ids: true, ignore_eos: true })).json as Completion).choices[0] as Choice;
  assert.equal(cut.finish_reason, 'stop');
  assert.equal(cut.stop_reason, stop);
  assert.equal(cut.text, greedy.text.slice(0, at));
  assert.equal(setup.tokenizer.decode(cut.token_ids ?? []), greedy.text.slice(0, at + stop.length), 'token ids keep the tokens that completed the string');
  const kept = ((await complete({ prompt, max_tokens: 20, temperature: 0, stop: [stop], include_stop_str_in_output: true, ignore_eos: true })).json as Completion).choices[0] as Choice;
  assert.equal(kept.text, greedy.text.slice(0, at + stop.length));
});

test('streaming sends SSE deltas that add up to the non-streamed completion, then usage and [DONE]', async () => {
  const prompt = setup.tokenizer.encode('y');
  const plain = ((await complete({ prompt, max_tokens: 20, temperature: 0, ignore_eos: true })).json as Completion).choices[0] as Choice;
  const stop = plain.text.slice(9, 11);
  for (const extra of [{}, { stop }]) {
    const reference = ((await complete({ prompt, max_tokens: 20, temperature: 0, return_token_ids: true, ignore_eos: true, ...extra })).json as Completion).choices[0] as Choice;
    const response = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt, max_tokens: 20, temperature: 0, stream: true, return_token_ids: true, ignore_eos: true, stream_options: { include_usage: true }, ...extra }),
    });
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = await readEvents(response);
    assert.equal(events[events.length - 1], '[DONE]');
    const chunks = events.slice(0, -2) as Array<{ choices: Choice[] }>;
    const usage = events[events.length - 2] as { choices: unknown[]; usage: { completion_tokens: number } };
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.usage.completion_tokens, reference.token_ids?.length);
    assert.equal(chunks.map((c) => c.choices[0]?.text).join(''), reference.text);
    assert.deepEqual(chunks.flatMap((c) => c.choices[0]?.token_ids ?? []), reference.token_ids);
    assert.deepEqual(chunks[0]?.choices[0]?.prompt_token_ids, prompt);
    const last = chunks[chunks.length - 1]?.choices[0] as Choice;
    assert.equal(last.finish_reason, reference.finish_reason);
    assert.equal(last.stop_reason, reference.stop_reason);
    assert.ok(chunks.slice(0, -1).every((c) => c.choices[0]?.finish_reason === null));
  }
});

test('bad requests get 4xx JSON errors naming the field', async () => {
  const cases: Array<[Record<string, unknown>, number, string]> = [
    [{ prompt: 'ab', n: 65 }, 400, 'n'],
    [{ prompt: 'ab', n: 0 }, 400, 'n'],
    [{ prompt: 'ab', max_tokens: 300 }, 400, 'max_tokens'],
    [{ prompt: [1, 2, 999] }, 400, 'prompt'],
    [{ prompt: 'abc', max_tokens: 255 }, 400, 'max_tokens'],
    [{ prompt: 'ab', temperature: -1 }, 400, 'temperature'],
    [{ prompt: 'ab', echo: true }, 400, 'echo'],
    [{ prompt: 'ab', stop: [''] }, 400, 'stop'],
    [{ prompt: 'ab', model: 'gpt-9' }, 404, 'model'],
    [{ prompt: 'ab', stream_options: { include_usage: true } }, 400, 'stream_options'],
  ];
  for (const [body, status, param] of cases) {
    const answer = await postJson(`${url}/v1/completions`, body);
    assert.equal(answer.status, status, JSON.stringify(body));
    const error = (answer.json as ErrorBody).error;
    assert.equal(error.param, param, JSON.stringify(body));
    assert.equal(error.code, status);
    assert.ok(error.message.length > 5);
  }
  const broken = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt": [1,' });
  assert.equal(broken.status, 400);
  assert.match(((await broken.json()) as ErrorBody).error.message, /not valid JSON/);
  const missing = await fetch(`${url}/v1/nothing`);
  assert.equal(missing.status, 404);
});

test('limits: oversized bodies get 413, long prompts 400', async () => {
  const small = await startBigramServer({ limits: { maxBodyBytes: 200, maxPromptTokens: 8 } });
  try {
    const big = await postJson(`${small.server.url}/v1/completions`, { prompt: 'a'.repeat(300) });
    assert.equal(big.status, 413);
    const long = await postJson(`${small.server.url}/v1/completions`, { prompt: 'abcdefghij' });
    assert.equal(long.status, 400);
    assert.match((long.json as ErrorBody).error.message, /10 tokens; the limit is 8/);
  } finally {
    await small.server.close();
  }
});

test('an API key is required on every request when configured; non-loopback hosts require one', async () => {
  const guarded = await startBigramServer({ apiKey: 'secret-key' });
  try {
    assert.equal((await fetch(`${guarded.server.url}/health`)).status, 401);
    assert.equal((await postJson(`${guarded.server.url}/v1/completions`, { prompt: 'ab' }, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await postJson(`${guarded.server.url}/api/v1/create_session`, {})).status, 401);
    assert.equal((await postJson(`${guarded.server.url}/v1/completions`, { prompt: 'ab', max_tokens: 2 }, { authorization: 'Bearer secret-key' })).status, 200);
    assert.equal((await postJson(`${guarded.server.url}/api/v1/create_session`, {}, { 'x-api-key': 'secret-key' })).status, 200);
  } finally {
    await guarded.server.close();
  }
  await assert.rejects(
    startServer({ backend: setup.backend, tokenizer: setup.tokenizer, modelName: 'x', checkpointDir: setup.checkpointDir, host: '0.0.0.0' }),
    (error: Error & { input?: string }) => error.input === '--host' && /API key/.test(error.message),
  );
});

test('visibleText holds back a tail that may become a stop string, and never retracts', () => {
  const tokenizer = charTokenizer;
  const spec = { stopStrings: ['```output'], includeStopString: false, skipSpecialTokens: true };
  const ids = tokenizer.encode('x = 1\n```output');
  let shown = '';
  for (let i = 1; i <= ids.length; i++) {
    const text = visibleText(ids.slice(0, i), i === ids.length ? { stoppedByToken: false } : null, spec, tokenizer);
    assert.ok(text.startsWith(shown), `prefix at ${i}`);
    shown = text;
  }
  assert.equal(shown, 'x = 1\n');
  assert.equal(visibleText(tokenizer.encode('x = 1\n``'), null, spec, tokenizer), 'x = 1\n');
  assert.equal(visibleText(tokenizer.encode('ab'), { stoppedByToken: true }, spec, tokenizer), 'a');
});
