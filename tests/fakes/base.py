"""A real HTTP server on 127.0.0.1 that plays a provider in tests.

Subclasses implement `respond()`, checking each request the way the provider
does. Tests script the next answers with `fail_next()` or `behave()`, and read
what arrived from `requests`.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclasses.dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclasses.dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body).encode(), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return self.body, "application/octet-stream"


class FakeProvider:
    """Base class: a threaded HTTP server with scripted misbehaviour."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._scripted: deque[Reply] = deque()
        self._behaviours: deque[str] = deque()
        self.delay = 0.0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll makes stop() quick: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    # -- lifecycle ------------------------------------------------------

    def start(self) -> FakeProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting ------------------------------------------------------

    def fail_next(self, reply: Reply, times: int = 1) -> None:
        """Answer the next `times` valid requests with `reply` instead."""
        with self._lock:
            self._scripted.extend([reply] * times)

    def behave(self, behaviour: str, times: int = 1) -> None:
        """Misbehave on the next requests: `hang`, `close` or `close_mid_reply`."""
        with self._lock:
            self._behaviours.extend([behaviour] * times)

    def respond(self, received: Received) -> Reply:
        """Check `received` as the provider would and return its answer."""
        raise NotImplementedError

    def scripted(self) -> Reply | None:
        with self._lock:
            return self._scripted.popleft() if self._scripted else None

    # -- plumbing -------------------------------------------------------

    def _next_behaviour(self) -> str | None:
        with self._lock:
            return self._behaviours.popleft() if self._behaviours else None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; with Nagle's algorithm
            # the body would wait for the client's delayed ACK (about 40 ms).
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                received = Received(
                    method=self.command,
                    path=split.path,
                    query=parse_qs(split.query, keep_blank_values=True),
                    raw_query=split.query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with fake._lock:
                    fake.requests.append(received)
                behaviour = fake._next_behaviour()
                if fake.delay:
                    time.sleep(fake.delay)
                if behaviour == "hang":
                    time.sleep(30)
                    return
                if behaviour == "close":
                    self._drop()
                    return
                reply = fake.respond(received)
                content, content_type = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": content_type, **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if behaviour == "close_mid_reply":
                    self.wfile.write(content[: len(content) // 2])
                    self.wfile.flush()
                    self._drop()
                    return
                self.wfile.write(content)

            def _drop(self) -> None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        return Handler
