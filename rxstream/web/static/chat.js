// The chat page: sends a prompt to POST streams, then reads the stream's events with an
// EventSource, resuming by event id after any drop (the browser's own reconnect sends
// Last-Event-ID; a new EventSource, after a reload or a failed reconnect, passes
// ?last_event_id=). A page that starts without state asks for ?mode=snapshot: one event
// with the message so far, then the tail. Each event is applied exactly once, in order.
"use strict";
(() => {
  const meta = (name) => document.querySelector(`meta[name="rxstream-${name}"]`).content;
  const MODEL = meta("model");
  // The relay sends a ping event after this many seconds of silence: a connection silent
  // for much longer is dead even if no error says so (a network that vanished, no FIN).
  const PING_SECONDS = Number(meta("ping-interval")) || 15;
  const WEATHER_TOOL = {
    name: "get_weather",
    description: "Get the current weather for a city",
    input_schema: {
      type: "object",
      properties: {
        location: { type: "string", description: "City name" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
      },
      required: ["location"],
    },
  };
  const EVENTS = [
    "snapshot", "message_start", "content_block_start", "content_block_delta",
    "content_block_stop", "message_delta", "message_stop", "ping", "error",
  ];
  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const saved = window.sessionStorage;
  const save = (key, value) =>
    value === null ? saved.removeItem(key) : saved.setItem(key, JSON.stringify(value));
  const load = (key) => JSON.parse(saved.getItem(key) || "null");

  // The finished turns ({role, text, streamId}), kept across reloads of this tab.
  const turns = load("rxstream.turns") || [];
  let current = null;
  let lastReply = null;

  function setStatus(state, text) {
    const el = $("status");
    el.dataset.state = state;
    el.textContent = text || state;
  }

  function bubble(role, cls) {
    const el = document.createElement("article");
    el.className = `turn ${role} ${cls || ""}`;
    log.appendChild(el);
    el.scrollIntoView({ block: "end" });
    return el;
  }

  function userBubble(text) {
    bubble("user").innerHTML = window.rxMarkdown.render(text);
  }

  // One assistant reply being streamed: its blocks, usage and timing, and its connection.
  class Reply {
    constructor(streamId, eventsUrl, sentAt) {
      this.streamId = streamId;
      this.eventsUrl = eventsUrl;
      this.sentAt = sentAt; // null when this page did not send the request (reload, watcher)
      this.firstTokenAt = null;
      this.lastTokenAt = null;
      this.lastId = null;
      this.deltas = 0;
      this.blocks = [];
      this.usage = null;
      this.stopReason = null;
      this.state = "streaming";
      this.source = null;
      this.retryTimer = null;
      this.renderTimer = null;
      this.lastSeen = performance.now();
      this.watchdog = setInterval(() => this.checkAlive(), 1000);
      this.el = bubble("assistant");
      this.el.dataset.streamId = streamId;
      this.el.dataset.state = "streaming";
      this.body = document.createElement("div");
      this.footer = document.createElement("footer");
      this.footer.className = "meta";
      this.el.append(this.body, this.footer);
    }

    text() {
      return this.blocks.filter((b) => b && b.type === "text").map((b) => b.text).join("");
    }

    connect() {
      const query = this.lastId === null ? "mode=snapshot"
        : "last_event_id=" + encodeURIComponent(this.lastId);
      const source = new EventSource(this.eventsUrl + "?" + query);
      this.source = source;
      source.onopen = () => { if (this.state === "streaming") setStatus("streaming"); };
      for (const name of EVENTS) {
        source.addEventListener(name, (e) => this.receive(source, name, e));
      }
    }

    receive(source, name, e) {
      if (source !== this.source) return; // a connection we already replaced
      this.lastSeen = performance.now();
      if (name === "error" && !(e instanceof MessageEvent && e.data)) {
        // The connection failed. The EventSource retries by itself unless it gave up.
        if (this.state !== "streaming") return;
        setStatus("reconnecting");
        if (source.readyState === EventSource.CLOSED) this.reconnectSoon(1000);
        return;
      }
      if (e.lastEventId) this.lastId = e.lastEventId;
      this.apply(name, JSON.parse(e.data));
    }

    checkAlive() {
      const silent = (performance.now() - this.lastSeen) / 1000;
      if (this.state === "streaming" && this.source && silent > 2.5 * PING_SECONDS) {
        this.drop("reconnecting");
        this.reconnectSoon(0);
      }
    }

    drop(status) {
      if (this.source) this.source.close();
      this.source = null;
      if (this.state === "streaming") setStatus("reconnecting", status);
    }

    reconnectSoon(delay) {
      if (this.retryTimer !== null || this.state !== "streaming" || !navigator.onLine) return;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (this.source) this.source.close();
        this.connect();
      }, delay);
    }

    reconnectNow() {
      if (this.state !== "streaming" || (this.source && this.source.readyState === EventSource.OPEN)) return;
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.lastSeen = performance.now();
      this.reconnectSoon(0);
    }

    tokenSeen() {
      this.deltas += 1; // about a token each: the API counts output tokens only at the end
      const now = performance.now();
      if (this.firstTokenAt === null) this.firstTokenAt = now;
      this.lastTokenAt = now;
    }

    apply(name, data) {
      switch (name) {
        case "snapshot":
          this.blocks = data.message.content.map((block, i) => fromBlock(block, data.partial_json[String(i)]));
          this.usage = data.message.usage;
          this.stopReason = data.message.stop_reason;
          if (data.complete) return this.finish("done");
          break;
        case "message_start":
          this.blocks = [];
          this.usage = data.message.usage;
          break;
        case "content_block_start":
          this.blocks[data.index] = fromBlock(data.content_block, "");
          break;
        case "content_block_delta": {
          const block = this.blocks[data.index];
          const delta = data.delta;
          if (delta.type === "text_delta") block.text += delta.text;
          else if (delta.type === "thinking_delta") block.thinking += delta.thinking;
          else if (delta.type === "input_json_delta") block.json += delta.partial_json;
          else break;
          this.tokenSeen();
          break;
        }
        case "content_block_stop":
          this.blocks[data.index].stopped = true;
          break;
        case "message_delta":
          this.usage = Object.assign({}, this.usage, data.usage);
          this.stopReason = data.delta.stop_reason;
          break;
        case "message_stop":
          return this.finish("done");
        case "error":
          this.error = data.error;
          return this.finish(data.error.type === "stream_cancelled" ? "stopped" : "error");
        default:
          return; // ping
      }
      this.scheduleRender();
    }

    finish(state) {
      this.state = state;
      if (this.source) this.source.close();
      clearTimeout(this.retryTimer);
      clearInterval(this.watchdog);
      this.render();
      this.el.dataset.state = state;
      setStatus(state === "done" ? "idle" : state, state === "done" ? "ready" : state);
      onReplyEnd(this);
    }

    scheduleRender() {
      // Once per frame however many events came; a hidden tab has no frames, so a timer.
      if (this.renderTimer === null) {
        const run = () => { this.renderTimer = null; this.render(); };
        if (document.hidden) {
          const id = setTimeout(run, 100);
          this.renderTimer = () => clearTimeout(id);
        } else {
          const id = requestAnimationFrame(run);
          this.renderTimer = () => cancelAnimationFrame(id);
        }
      }
    }

    render() {
      if (this.renderTimer !== null) {
        this.renderTimer();
        this.renderTimer = null;
      }
      this.blocks.forEach((block, i) => {
        if (!block) return;
        if (!block.el) {
          block.el = blockElement(block);
          this.body.appendChild(block.el);
        }
        updateBlock(block, i);
      });
      this.footer.textContent = this.meta();
      this.el.scrollIntoView({ block: "end" });
    }

    meta() {
      const parts = [];
      // Exact once message_delta has come (its usage); until then, deltas seen (about tokens).
      const final = this.stopReason !== null && this.usage;
      const out = final ? this.usage.output_tokens : this.deltas;
      if (this.usage) parts.push(`${this.usage.input_tokens} in · ${final ? "" : "~"}${out} out tokens`);
      if (this.sentAt !== null && this.firstTokenAt !== null) {
        parts.push(`TTFT ${((this.firstTokenAt - this.sentAt) / 1000).toFixed(2)} s`);
      }
      const span = (this.lastTokenAt - this.firstTokenAt) / 1000;
      if (this.sentAt !== null && span > 0) {
        parts.push(`${(out / span).toFixed(1)} tok/s`);
      }
      if (this.stopReason) parts.push(`stop: ${this.stopReason}`);
      if (this.state === "stopped") parts.push("stopped");
      if (this.state === "error") parts.push(`error: ${this.error.type}: ${this.error.message}`);
      return parts.join(" · ");
    }
  }

  function fromBlock(block, partialJson) {
    switch (block.type) {
      case "text": return { type: "text", text: block.text || "" };
      case "thinking": return { type: "thinking", thinking: block.thinking || "" };
      case "tool_use":
      case "server_tool_use":
        // A tool block from a snapshot is either still streaming (its raw JSON so far) or done.
        return partialJson === undefined
          ? { type: "tool", name: block.name, json: JSON.stringify(block.input), stopped: true }
          : { type: "tool", name: block.name, json: partialJson };
      default: return { type: "other", kind: block.type };
    }
  }

  function blockElement(block) {
    if (block.type === "thinking") {
      const el = document.createElement("details");
      el.className = "thinking";
      el.open = true;
      el.innerHTML = "<summary>Thinking</summary><div class=\"thinking-text\"></div>";
      return el;
    }
    const el = document.createElement("div");
    if (block.type === "tool") {
      el.className = "tool";
      el.innerHTML = `<div class="tool-name"></div><pre class="tool-input"></pre>`;
      el.querySelector(".tool-name").textContent = block.name;
    } else {
      el.className = block.type === "text" ? "text markdown" : "other";
    }
    return el;
  }

  function updateBlock(block) {
    const el = block.el;
    if (block.type === "text") {
      el.innerHTML = window.rxMarkdown.render(block.text);
    } else if (block.type === "thinking") {
      el.querySelector(".thinking-text").textContent = block.thinking;
      if (block.stopped && !block.folded) { el.open = false; block.folded = true; }
    } else if (block.type === "tool") {
      el.classList.toggle("assembling", !block.stopped);
      el.querySelector(".tool-input").textContent = block.stopped ? pretty(block.json) : block.json;
    } else {
      el.textContent = `[${block.kind} block]`;
    }
  }

  function pretty(json) {
    try { return JSON.stringify(JSON.parse(json || "{}"), null, 2); } catch { return json; }
  }

  function setRunning(reply) {
    current = reply;
    if (reply) lastReply = reply;
    $("send").disabled = reply !== null;
    $("stop").disabled = reply === null;
    const link = $("watch-link");
    link.hidden = reply === null;
    const url = new URL(window.location.href);
    if (reply) url.searchParams.set("stream", reply.streamId);
    else url.searchParams.delete("stream");
    window.history.replaceState(null, "", url);
    link.href = url.href;
  }

  function onReplyEnd(reply) {
    if (reply !== current) return;
    if (reply.ownTurn) {
      turns.push({ role: "assistant", text: reply.text() || "(no text)", streamId: reply.streamId });
      save("rxstream.turns", turns);
      save("rxstream.running", null);
    }
    setRunning(null);
  }

  async function send(prompt) {
    const messages = turns.map((t) => ({ role: t.role, content: t.text }));
    messages.push({ role: "user", content: prompt });
    const body = { model: MODEL, max_tokens: 4096, messages };
    if ($("opt-thinking").checked) body.thinking = { type: "enabled", budget_tokens: 2048 };
    if ($("opt-tools").checked) body.tools = [WEATHER_TOOL];
    const sentAt = performance.now();
    setStatus("sending");
    const response = await fetch("streams", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) {
      setStatus("error", `error: ${answer.error.type}: ${answer.error.message}`);
      return;
    }
    turns.push({ role: "user", text: prompt });
    save("rxstream.turns", turns);
    save("rxstream.running", { streamId: answer.stream_id, eventsUrl: answer.events_url });
    userBubble(prompt);
    const reply = new Reply(answer.stream_id, answer.events_url, sentAt);
    reply.ownTurn = true;
    setRunning(reply);
    reply.connect();
  }

  function watch(streamId, eventsUrl, own) {
    const reply = new Reply(streamId, eventsUrl, null);
    reply.ownTurn = own;
    setRunning(reply);
    reply.connect();
  }

  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const prompt = $("prompt").value.trim();
    if (!prompt || current) return;
    $("prompt").value = "";
    send(prompt).catch((err) => setStatus("error", `error: ${err}`));
  });
  $("prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  $("stop").addEventListener("click", () => {
    if (current) fetch("streams/" + encodeURIComponent(current.streamId), { method: "DELETE" });
  });
  // Offline: the connection is as good as gone (it may never say so); back online, resume
  // at once from the last event id rather than at the next retry.
  window.addEventListener("offline", () => { if (current) current.drop("offline"); });
  window.addEventListener("online", () => { if (current) current.reconnectNow(); });

  // Start: the turns of this tab, then the running stream (after a reload), or the stream
  // named in the URL (another tab watching).
  for (const t of turns) {
    if (t.role === "user") userBubble(t.text);
    else {
      const el = bubble("assistant");
      el.dataset.streamId = t.streamId;
      el.dataset.state = "done";
      el.innerHTML = window.rxMarkdown.render(t.text);
    }
  }
  const running = load("rxstream.running");
  const named = new URL(window.location.href).searchParams.get("stream");
  if (running) watch(running.streamId, running.eventsUrl, true);
  else if (named) watch(named, "streams/" + encodeURIComponent(named) + "/events", false);

  // For tests and for the curious: the raw text of each reply, as received.
  window.rxstreamChat = {
    replyText: () => (lastReply ? lastReply.text() : ""),
    replyState: () => (lastReply ? lastReply.state : null),
  };
})();
