"""A loopback OpenAI-compatible chat-completions server with known timing, for TTFT and usage tests.

Streamed responses behave like vLLM / OpenAI: an empty ``role`` chunk at once, then — after
``first_delay_s`` — the first content chunk (text, or a tool-call delta when the request binds tools), more
chunks every ``gap_s``, a ``finish_reason`` chunk and, only when the request asks for it with
``stream_options.include_usage``, a usage-only chunk. Non-streamed responses arrive after the same total
time with usage in the body. The server records, per request, when it received it and when it was about to
write the first content chunk (``perf_counter``, same process as the client), so a client's TTFT is never
below the true one, however the threads are scheduled.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WORDS = ("Hello", " from", " the", " loopback")
TOOL_ARGS = ('{"city": ', '"Paris"}')


@dataclass
class Served:
    """One request as the server saw it."""

    body: dict[str, Any]
    received: float
    first_content: float | None = None


@dataclass
class OpenAICompatibleServer:
    """The server's knobs and what it saw; ``url`` is the ``base_url`` to give ``ChatOpenAI``."""

    first_delay_s: float = 0.3
    gap_s: float = 0.04
    prompt_tokens: int = 57
    completion_tokens: int = 23
    served: list[Served] = field(default_factory=list)
    url: str = ""

    def last(self) -> Served:
        return self.served[-1]


def _handler(server: OpenAICompatibleServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            received = time.perf_counter()
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen = Served(body, received)
            server.served.append(seen)
            if body.get("stream"):
                self._stream(body, seen)
            else:
                self._complete(body)

        def _usage(self) -> dict[str, int]:
            return {
                "prompt_tokens": server.prompt_tokens,
                "completion_tokens": server.completion_tokens,
                "total_tokens": server.prompt_tokens + server.completion_tokens,
            }

        def _complete(self, body: dict[str, Any]) -> None:
            time.sleep(server.first_delay_s + server.gap_s * (len(WORDS) - 1))
            message: dict[str, Any] = {"role": "assistant", "content": "".join(WORDS)}
            finish = "stop"
            if body.get("tools"):
                name = body["tools"][0]["function"]["name"]
                args = "".join(TOOL_ARGS)
                message = {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": name, "arguments": args}}
                    ],
                }
                finish = "tool_calls"
            payload = {
                "id": "chatcmpl-loop",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": self._usage(),
            }
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _event(self, body: dict[str, Any], choices: list[Any], **extra: Any) -> None:
            chunk = {
                "id": "chatcmpl-loop",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": choices,
                **extra,
            }
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()

        def _stream(self, body: dict[str, Any], seen: Served) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self._event(body, [{"index": 0, "delta": {"role": "assistant", "content": ""}}])
            time.sleep(server.first_delay_s)
            if body.get("tools"):
                name = body["tools"][0]["function"]["name"]
                deltas: list[dict[str, Any]] = [
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": name, "arguments": TOOL_ARGS[0]},
                            }
                        ]
                    },
                    {"tool_calls": [{"index": 0, "function": {"arguments": TOOL_ARGS[1]}}]},
                ]
                finish = "tool_calls"
            else:
                deltas = [{"content": word} for word in WORDS]
                finish = "stop"
            for i, delta in enumerate(deltas):
                if i:
                    time.sleep(server.gap_s)
                if i == 0:  # stamped before the write: the client cannot see the chunk any earlier
                    seen.first_content = time.perf_counter()
                self._event(body, [{"index": 0, "delta": delta}])
            self._event(body, [{"index": 0, "delta": {}, "finish_reason": finish}])
            if (body.get("stream_options") or {}).get("include_usage"):
                self._event(body, [], usage=self._usage())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


def serve(server: OpenAICompatibleServer) -> Iterator[OpenAICompatibleServer]:
    """Run ``server`` on a free loopback port for the duration of the generator."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
