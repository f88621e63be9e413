// One scenario of the official TypeScript SDK against a running emulator.
// Usage: node scenario.mjs <name> <base URL>. Prints one JSON object: what the client saw.
// tests/test_emulator_ts.py runs every scenario and checks the exact results.
import Anthropic from "@anthropic-ai/sdk";

const [name, baseURL] = process.argv.slice(2);
const MODEL = "claude-sonnet-4-5";
const client = new Anthropic({ baseURL, apiKey: "ts-test-key", maxRetries: 0 });
const ask = (content) => [{ role: "user", content }];
const WEATHER = {
  name: "get_weather",
  description: "Get the current weather for a city",
  input_schema: {
    type: "object",
    properties: { location: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
    required: ["location"],
  },
};

async function streamed(params, options) {
  const stream = client.messages.stream(params, options);
  const events = [];
  for await (const event of stream) {
    events.push(event.type === "content_block_delta" ? `delta:${event.delta.type}` : event.type);
  }
  return { events, message: await stream.finalMessage(), requestId: stream.request_id ?? null };
}

async function failure(promise) {
  try {
    await promise;
    return { error: null };
  } catch (error) {
    return {
      error: error.constructor.name,
      status: error.status ?? null,
      type: error.error?.error?.type ?? error.type ?? null,
      message: error.error?.error?.message ?? error.message,
      requestId: error.requestID ?? null,
      retryAfter: error.headers?.get?.("retry-after") ?? null,
    };
  }
}

async function faulted(fault, params = {}, options = {}) {
  const headers = { "x-emulator-fault": fault };
  const body = { model: MODEL, max_tokens: 300, messages: ask("Count to 20"), ...params };
  return failure(streamed(body, { headers, ...options }));
}

const scenarios = {
  async stream_text() {
    const { events, message, requestId } = await streamed({ model: MODEL, max_tokens: 300, messages: ask("What is 6 times 7?") });
    return { events, message, requestId };
  },
  async create_text() {
    const { data, response } = await client.messages
      .create({ model: MODEL, max_tokens: 300, messages: ask("What is the capital of France?") })
      .withResponse();
    const headers = Object.fromEntries([...response.headers].filter(([k]) => k.startsWith("anthropic-") || k === "request-id"));
    return { message: data, requestId: data._request_id, headers };
  },
  async unique_ids() {
    const params = { model: MODEL, max_tokens: 300, messages: ask("Hello") };
    const first = await client.messages.create(params);
    const second = await client.messages.create(params);
    return { ids: [first.id, second.id], requestIds: [first._request_id, second._request_id],
             texts: [first.content[0].text, second.content[0].text] };
  },
  async tools() {
    const messages = ask("What's the weather in Paris right now? Should I take an umbrella?");
    const first = await streamed({ model: MODEL, max_tokens: 1000, messages, tools: [WEATHER] });
    const call = first.message.content.find((b) => b.type === "tool_use");
    const result = { location: call.input.location, temperature_c: 14, conditions: "light rain", wind_kmh: 18 };
    messages.push({ role: "assistant", content: first.message.content });
    messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: JSON.stringify(result) }] });
    const second = await client.messages.create({ model: MODEL, max_tokens: 1000, messages, tools: [WEATHER] });
    messages.push({ role: "assistant", content: second.content });
    messages.push({ role: "user", content: "And in Berlin?" });
    const third = await client.messages.create({ model: MODEL, max_tokens: 1000, messages, tools: [WEATHER] });
    return { first: first.message, events: first.events, second, third };
  },
  async web_search() {
    const tools = [{ type: "web_search_20250305", name: "web_search", max_uses: 3 }];
    return streamed({ model: MODEL, max_tokens: 2000, messages: ask("Search the web for the latest news on fusion energy"), tools });
  },
  async web_fetch_and_code() {
    const tools = [{ type: "web_fetch_20250910", name: "web_fetch" }, { type: "code_execution_20250825", name: "code_execution" }];
    const messages = ask("Read https://example.com/report and run python to compute 17 * 23");
    const paused = await client.messages.create({ model: MODEL, max_tokens: 2000, messages, tools });
    messages.push({ role: "assistant", content: paused.content });
    const resumed = await streamed({ model: MODEL, max_tokens: 2000, messages, tools });
    return { paused, resumed: resumed.message, events: resumed.events };
  },
  async thinking() {
    return streamed({ model: MODEL, max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 2000 }, messages: ask("What is (12 + 8) * 3?") });
  },
  async multi_turn() {
    const messages = ask("What is 6 times 7?");
    const first = await client.messages.create({ model: MODEL, max_tokens: 300, messages });
    messages.push({ role: "assistant", content: first.content }, { role: "user", content: "And times 2?" });
    const second = await client.messages.create({ model: MODEL, max_tokens: 300, messages });
    messages.push({ role: "assistant", content: second.content }, { role: "user", content: "What is the capital of Japan?" });
    const third = await client.messages.create({ model: MODEL, max_tokens: 300, messages });
    messages.push({ role: "assistant", content: third.content }, { role: "user", content: "And Italy?" });
    const fourth = await client.messages.create({ model: MODEL, max_tokens: 300, messages });
    return { answers: [first, second, third, fourth].map((m) => m.content[0].text) };
  },
  async count_tokens() {
    const params = { model: MODEL, messages: ask("Write a haiku about the sea"), tools: [WEATHER], system: "Be brief." };
    const counted = await client.messages.countTokens(params);
    const created = await client.messages.create({ ...params, max_tokens: 500 });
    return { counted, usage: created.usage };
  },
  async models() {
    const ids = [];
    for await (const model of client.models.list({ limit: 3 })) ids.push(model.id);
    const first = await client.models.list({ limit: 3 });
    const alias = await client.models.retrieve("claude-haiku-4-5");
    const missing = await failure(client.models.retrieve("gpt-4o"));
    return { ids, firstPage: { ids: first.data.map((m) => m.id), hasMore: first.has_more, lastId: first.last_id }, alias, missing };
  },
  async validation() {
    const base = { model: MODEL, max_tokens: 100, messages: ask("Hi") };
    return {
      model: await failure(client.messages.create({ ...base, model: "gpt-4o" })),
      field: await failure(client.messages.create({ ...base, frobnicate: true })),
      maxTokens: await failure(client.messages.stream({ ...base, max_tokens: 100000 }).finalMessage()),
      sampling: await failure(client.messages.create({ ...base, temperature: 0.5, top_p: 0.9 })),
      prefill: await failure(client.messages.create({ ...base, model: "claude-opus-4-6", messages: [...ask("Hi"), { role: "assistant", content: "Hello" }] })),
      toolName: await failure(client.messages.create({ ...base, tools: [{ ...WEATHER, name: "get weather" }] })),
      image: await failure(client.messages.create({ ...base, messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/tiff", data: "AAAA" } }] }] })),
    };
  },
  async fault_429() {
    return faulted("status=429");
  },
  async fault_529_retried() {
    const retrying = new Anthropic({ baseURL, apiKey: "ts-test-key", maxRetries: 2 });
    const message = await retrying.messages.create(
      { model: MODEL, max_tokens: 100, messages: ask("What is 2+2?") },
      { headers: { "x-emulator-fault": "status=529;times=1;retry-after-ms=10" } },
    );
    return { text: message.content[0].text };
  },
  async fault_529() {
    return faulted("status=529");
  },
  async fault_500() {
    return faulted("status=500");
  },
  async fault_error_event() {
    return faulted("error=overloaded_error;after=5");
  },
  async fault_drop() {
    return faulted("drop=4");
  },
  async fault_drop_mid() {
    return faulted("drop-mid=4");
  },
  async fault_drop_headers() {
    return faulted("drop=headers");
  },
  async fault_end() {
    return faulted("end=5");
  },
  async fault_stall() {
    const started = Date.now();
    const headers = { "x-emulator-fault": "stall=0.5;after=3" };
    const { message } = await streamed({ model: MODEL, max_tokens: 300, messages: ask("Hi") }, { headers });
    return { text: message.content[0].text, waited: (Date.now() - started) / 1000 };
  },
  async fault_trickle() {
    const headers = { "x-emulator-fault": "trickle" };
    const { message } = await streamed({ model: MODEL, max_tokens: 300, messages: ask("Hi") }, { headers });
    return { text: message.content[0].text };
  },
  async rate_limited() {
    const params = { model: MODEL, max_tokens: 100, messages: ask("Hi") };
    const ok = await client.messages.create(params).withResponse();
    const refused = await failure(client.messages.create(params));
    return { remaining: ok.response.headers.get("anthropic-ratelimit-requests-remaining"), refused };
  },
};

const run = scenarios[name];
if (!run) {
  console.error(`unknown scenario ${name}`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await run()) + "\n");
