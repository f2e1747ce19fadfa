"""A real SMTP server on 127.0.0.1 (aiosmtpd) that can refuse and misbehave.

Tests tell it to refuse chosen addresses at RCPT (`refuse()`) and to
misbehave after DATA (`behave()`), then read what arrived from `messages`.
Given `credentials`, it demands that login (AUTH without TLS) and can be told
to refuse it (`refuse_login()`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import socket
import threading
from collections import deque
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

TEMPORARY = "451 4.3.0 Mailbox temporarily unavailable, try again later"
UNKNOWN_USER = "550 5.1.1 Recipient address rejected: User unknown"


@dataclasses.dataclass
class Arrived:
    """One message the server accepted (or took in before misbehaving)."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    # The client's address and port: the same port means the same connection.
    peer: tuple[str, int]


class FakeSmtp:
    """A threaded aiosmtpd server on a free loopback port."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.messages: list[Arrived] = []
        self.delay = 0.0
        self.credentials = credentials
        self._refusals: dict[str, deque[str]] = {}
        self._login_refusals: deque[str] = deque()
        self._behaviours: deque[str] = deque()
        self._transports: list[asyncio.BaseTransport] = []
        self._lock = threading.Lock()
        self.port = _free_port()
        login: dict[str, Any] = {}
        if credentials:
            # Django's backend logs in whenever it has a user and password,
            # so offering AUTH (over plain text, on loopback) is enough.
            login = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **login
        )

    # -- lifecycle ------------------------------------------------------

    def start(self) -> FakeSmtp:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> FakeSmtp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def settings(self) -> dict[str, Any]:
        """Django settings that point the SMTP backend at this server."""
        user, password = self.credentials or ("", "")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": user,
            "EMAIL_HOST_PASSWORD": password,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
        }

    # -- scripting ------------------------------------------------------

    def refuse(self, address: str, reply: str = TEMPORARY, times: int = 1) -> None:
        """Answer RCPT TO `address` with `reply` the next `times` times."""
        with self._lock:
            self._refusals.setdefault(address.lower(), deque()).extend([reply] * times)

    def refuse_login(self, reply: str, times: int = 1) -> None:
        """Answer the next `times` AUTH commands with `reply`, such as a 535.

        smtplib tries each mechanism the server offers (PLAIN, then LOGIN)
        before it gives up, so refusing one login takes two.
        """
        with self._lock:
            self._login_refusals.extend([reply] * times)

    def behave(self, behaviour: str, times: int = 1) -> None:
        """After the next DATA: `hang`, `close` (no reply) or `close_mid_reply`."""
        with self._lock:
            self._behaviours.extend([behaviour] * times)

    def drop_connections(self) -> None:
        """Close every open client connection, as a server does to idle ones."""
        with self._lock:
            transports, self._transports = self._transports, []
        loop = self._controller.loop
        for transport in transports:
            loop.call_soon_threadsafe(transport.close)

    def _refusal(self, address: str) -> str | None:
        with self._lock:
            replies = self._refusals.get(address.lower())
            return replies.popleft() if replies else None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        with self._lock:
            refusal = self._login_refusals.popleft() if self._login_refusals else None
        if refusal is not None:
            return AuthResult(success=False, handled=False, message=refusal)
        ok = isinstance(data, LoginPassword) and self.credentials == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)

    def _next_behaviour(self) -> str | None:
        with self._lock:
            return self._behaviours.popleft() if self._behaviours else None

    def _arrived(self, envelope: Any, peer: tuple[str, int]) -> None:
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        with self._lock:
            self.messages.append(
                Arrived(envelope.mail_from, list(envelope.rcpt_tos), message, peer)
            )


class _Handler:
    """aiosmtpd hooks; everything not defined here is aiosmtpd's default."""

    def __init__(self, fake: FakeSmtp) -> None:
        self.fake = fake

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.fake._lock:
            if server.transport not in self.fake._transports:
                self.fake._transports.append(server.transport)
        refusal = self.fake._refusal(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        behaviour = self.fake._next_behaviour()
        if self.fake.delay:
            await asyncio.sleep(self.fake.delay)
        # The server has the whole message whatever it does next: that is
        # what makes a lost final reply an unknown outcome.
        self.fake._arrived(envelope, tuple(session.peer[:2]))
        if behaviour == "hang":
            await asyncio.sleep(30)
        elif behaviour == "close":
            server.transport.close()
        elif behaviour == "close_mid_reply":
            server.transport.write(b"2")
            server.transport.close()
        return "250 2.0.0 Ok: queued"


def _free_port() -> int:
    # aiosmtpd's controller connects to its own port to check it is up, so
    # it needs the port number before it starts: ask the OS for a free one.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
