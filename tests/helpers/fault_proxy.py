"""A fault-injecting HTTP proxy for OpenAI-compatible servers (a test utility).

It sits between the `openai` backend and a real server on 127.0.0.1 and, for a seeded random
share of chat-completion requests, answers with a fault instead of (or before) forwarding:
429 with and without Retry-After, 500, 503, a connection reset, a response slower than the
client's timeout, a malformed JSON body, and well-formed but useless completions (empty, a
refusal, the wrong format). Everything else is forwarded unchanged. `counts` says what was
injected, so a test can report it.

`force=(status, message)` answers every chat request with that status instead (an unknown
model's 404, a 400; 200 answers a completion whose content is the message), where `{auth}` in
the message is replaced by the request's Authorization header, as a careless server that
echoes it would. `seen` records each request's Authorization header and each chat request's
JSON body, so tests can check what reached the server.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FAULTS = [
    "429_retry_after",
    "429",
    "500",
    "503",
    "reset",
    "slow",
    "malformed_json",
    "empty",
    "refusal",
    "wrong_format",
]
USELESS = {
    "empty": "",
    "refusal": "I'm sorry, but I can't help with that request.",
    "wrong_format": "{{{ ### ... }}}",
}


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        fault_rate: float = 0.3,
        slow_seconds: float = 3.0,
        seed: int = 0,
        force: tuple[int, str] | None = None,
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.fault_rate = fault_rate
        self.slow_seconds = slow_seconds
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.force = force
        self.seen: list[dict] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                with proxy.lock:
                    auth = self.headers.get("Authorization", "")
                    proxy.seen.append({"authorization": auth, "body": None})
                self._forward(b"")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                chat = self.path.endswith("/chat/completions")
                auth = self.headers.get("Authorization", "")
                if chat:
                    with proxy.lock:
                        proxy.seen.append({"authorization": auth, "body": json.loads(body)})
                if chat and proxy.force is not None:
                    status, message = proxy.force
                    message = message.replace("{auth}", auth)
                    if status == 200:  # a well-formed completion with this content
                        self._send(200, _completion(message))
                    else:
                        self._send(status, {"error": {"message": message}})
                    return
                fault = proxy.draw() if chat else None
                if fault is None:
                    self._forward(body)
                elif fault.startswith(("429", "500", "503")):
                    status = int(fault[:3])
                    headers = {"Retry-After": "1"} if fault == "429_retry_after" else {}
                    self._send(status, {"error": {"message": f"injected {fault}"}}, headers)
                elif fault == "reset":
                    # SO_LINGER 0: close() sends a TCP RST, as a crashed upstream would.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                elif fault == "slow":
                    time.sleep(proxy.slow_seconds)
                    self.close_connection = True
                elif fault == "malformed_json":
                    self._send_raw(200, b'{"id": "x", "object": "chat.completion", "choices": [')
                else:
                    self._send(200, _completion(USELESS[fault]))

            def _forward(self, body: bytes) -> None:
                conn = http.client.HTTPConnection(
                    proxy.upstream_host, proxy.upstream_port, timeout=300
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                conn.close()
                self._send_raw(response.status, payload)

            def _send(self, status: int, obj, headers: dict | None = None) -> None:
                self._send_raw(status, json.dumps(obj).encode(), headers)

            def _send_raw(self, status: int, payload: bytes, headers: dict | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (timeout) meanwhile
                    self.close_connection = True

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def draw(self) -> str | None:
        with self.lock:
            self.counts["requests"] += 1
            if self.rng.random() >= self.fault_rate:
                return None
            fault = self.rng.choice(FAULTS)
            self.counts[fault] += 1
            return fault

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # resets and client timeouts are the point here, not errors to print


def _completion(content: str) -> dict:
    return {
        "id": "chatcmpl-injected",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "injected",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }
