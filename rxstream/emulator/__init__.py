"""A local emulator of the Anthropic Messages API, for demos and tests.

A real HTTP server on loopback answers as the API does: `POST /v1/messages` (streamed with
`"stream": true` or not, in the API's wire format and order), `POST /v1/messages/count_tokens`,
`GET /v1/models` (paginated) and `GET /v1/models/{id}`; 404 / 405 elsewhere. Replies are
deterministic in the request and read like answers to it: arithmetic and follow-ups, capitals,
counting, names remembered across turns, haiku, stories and essays whose length follows the
request, tool calls whose input follows each tool's JSON schema, answers that use tool
results, server tools (web search with citations, web fetch, code execution, `pause_turn`),
thinking that reasons about the question, `max_tokens` and `stop_sequences` cut-offs. Ids are
new for every response; `seed` makes them reproducible.

    with serve() as emulator:
        client = anthropic.Anthropic(base_url=emulator.base_url, api_key="test")

Requests are validated as the API validates them, with its messages (`lenient=True` accepts
what only the API refuses). Every response carries `request-id` and
`anthropic-organization-id`; messages responses carry `anthropic-ratelimit-*` headers from
`rate_limits` that deplete, and a 429 with `retry-after` when one runs out.

Pacing: `ttft` (seconds to the first token) and `tps` (tokens per second; None or 0: unpaced)
for the server, overridden per request by the headers `x-emulator-ttft`, `x-emulator-tps` and
`x-emulator-ping-interval`. A `ping` event goes out after every `ping_interval` seconds of
silence.

Faults: the request header `x-emulator-fault` holds `;`-separated directives.

- `status=<400-599>`: answer with that status and the API's error body (429 rate_limit_error,
  529 overloaded_error, 500 api_error, ...); also on `count_tokens` and `models`. A 429 or
  529 always has `retry-after` (1 s unless asked otherwise). With it: `retry-after=<seconds>`,
  `retry-after-ms=<ms>`, `retry-after-date` (an HTTP date one second ahead),
  `should-retry=true|false` (the `x-should-retry` header).
- `times=<N>`: the directives apply only to the first N requests carrying this exact header
  value; later ones are served normally (so a retrying client succeeds on attempt N+1).
- `error=<error_type>` with `after=<N>`: after N events, an in-stream `event: error` and a clean
  end. Without streaming: an HTTP error whose status fits the type.
- `drop=headers`: read the request, then close the socket without a response.
- `drop=<N>`: send N events, then cut the connection (no chunked terminator).
- `drop-mid=<N>`: send N events and the first half of the next one's bytes, then cut.
- `end=<N>`: send N events, then end the body cleanly (no `message_stop`: incomplete).
- `stall=<seconds>` with `after=<N>`: after N events fall silent (no pings) that long, then go on.
- `trickle`: write the body one byte at a time.
- `message=<text>`: the message of an injected error.

N counts the reply's own events (`message_start`, the first `content_block_start`, the `ping`
after it, ...), never keep-alive pings. Without streaming, `drop=<N>`, `drop-mid=<N>` and
`end=<N>` all send half the JSON body and cut the connection; `stall` delays the body. A
header that does not parse gets a 400.

`Emulator` counts requests (`requests` by fault header value, `requests_total`), the
connections open now (`open_connections`), and keeps a `RequestRecord` per request with its
arrival time, its `request_id` and whether its connection has closed (`wait_closed()` waits
for that).

The emulator imports nothing else from rxstream: only the standard library and aiohttp.
"""

from ._message import reply_text_for as reply_text_for
from ._models import CATALOGUE as CATALOGUE
from ._ratelimit import RateLimits as RateLimits
from ._server import REALISTIC_TPS as REALISTIC_TPS
from ._server import REALISTIC_TTFT as REALISTIC_TTFT
from ._server import Emulator as Emulator
from ._server import aserve as aserve
from ._server import run as run
from ._server import serve as serve
from ._state import RequestRecord as RequestRecord

__all__ = [
    "CATALOGUE",
    "REALISTIC_TPS",
    "REALISTIC_TTFT",
    "Emulator",
    "RateLimits",
    "RequestRecord",
    "aserve",
    "reply_text_for",
    "run",
    "serve",
]
