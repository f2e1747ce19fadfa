"""The one way Orion talks HTTP to providers: pooled, bounded, and classified."""

from __future__ import annotations

import dataclasses
import email.utils
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from adapters.base import DeliveryError, excerpt
from adapters.netguard import GuardedHTTPAdapter, check_url

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
# No provider reply we act on is anywhere near this; a larger one is a
# misbehaving server, and reading it all would let it pin a worker's memory.
MAX_REPLY_BYTES = 64 * 1024


@dataclasses.dataclass
class HttpReply:
    status: int
    headers: Mapping[str, str]
    content: bytes
    truncated: bool = False

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (a proxy's error page)."""
        try:
            return json.loads(self.content)
        except ValueError:
            return None

    def retry_after(self) -> float | None:
        """Seconds from a `Retry-After` header, in either of its two forms."""
        value = self.headers.get("Retry-After")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


class HttpClient:
    """A pooled session with timeouts and a cap on the reply size.

    Failures become `DeliveryError`: one that happened before the request
    could have reached the provider is transient; one after (a read timeout,
    a connection dropped mid-reply) is an unknown outcome.
    """

    def __init__(
        self,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        max_reply_bytes: int = MAX_REPLY_BYTES,
        pool_size: int = 32,
    ) -> None:
        self.timeout = (connect_timeout, read_timeout)
        self.max_reply_bytes = max_reply_bytes
        self._pool_size = pool_size
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        # requests.Session is not documented as thread-safe: one per thread,
        # each with its own connection pool kept alive between sends.
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            # Every connection is checked against the SSRF guard when it is
            # made, at the address actually connected to (see netguard).
            adapter = GuardedHTTPAdapter(
                pool_connections=self._pool_size, pool_maxsize=self._pool_size
            )
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
        return session

    def post(
        self,
        url: str,
        *,
        secrets: Iterable[str] = (),
        timeout: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> HttpReply:
        """POST without following redirects; return the reply, whatever its status.

        Raise `DeliveryError` when no reply came, a permanent one (the
        `netguard.DestinationRefused` subclass) for a destination the SSRF
        guard refuses. `secrets` are masked out of every error message.
        """
        return self.request("POST", url, secrets=secrets, timeout=timeout, **kwargs)

    def post_json(
        self,
        url: str,
        payload: Any,
        *,
        secrets: Iterable[str] = (),
        **kwargs: Any,
    ) -> HttpReply:
        """POST `payload` as UTF-8 JSON (see `json_body`); otherwise as `post`."""
        return self.post(
            url,
            data=json_body(payload),
            headers={"Content-Type": "application/json; charset=utf-8"},
            secrets=secrets,
            **kwargs,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        secrets: Iterable[str] = (),
        timeout: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> HttpReply:
        secrets = tuple(secrets)
        check_url(url)
        try:
            response = self.session.request(
                method,
                url,
                timeout=timeout or self.timeout,
                allow_redirects=False,
                stream=True,
                **kwargs,
            )
        # `from None` throughout: requests' own messages repeat the full URL,
        # and a chained exception would carry a webhook's token into
        # tracebacks, logs and error reports.
        except requests.exceptions.ConnectTimeout:
            raise DeliveryError(
                "Timed out connecting to the provider.", permanent=False
            ) from None
        except requests.exceptions.ReadTimeout:
            raise DeliveryError(
                "The provider did not answer in time; the message may have been "
                "delivered.",
                permanent=False,
                unknown=True,
            ) from None
        except requests.exceptions.ConnectionError as exc:
            raise _connection_error(exc, secrets) from None
        except requests.exceptions.InvalidURL:
            raise DeliveryError(
                "The channel's URL is not valid.", permanent=True
            ) from None
        except requests.exceptions.RequestException as exc:
            raise DeliveryError(
                "The request to the provider failed: "
                + excerpt(type(exc).__name__, secrets),
                permanent=False,
                unknown=True,
            ) from None

        with response:
            content, truncated = self._read_capped(response, secrets)
        return HttpReply(
            status=response.status_code,
            headers=response.headers,
            content=content,
            truncated=truncated,
        )

    def _read_capped(
        self, response: requests.Response, secrets: tuple[str, ...]
    ) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=8192):
                chunks.append(chunk)
                size += len(chunk)
                if size >= self.max_reply_bytes:
                    return b"".join(chunks)[: self.max_reply_bytes], True
        except (requests.exceptions.RequestException, OSError):
            raise DeliveryError(
                "The provider closed the connection in the middle of its reply; the "
                "message may have been delivered.",
                permanent=False,
                unknown=True,
                status_code=response.status_code,
            ) from None
        return b"".join(chunks), False


def json_body(payload: Any) -> bytes:
    """`payload` as compact UTF-8 JSON: the bytes a provider's size limit counts."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def status_error(
    reply: HttpReply, who: str, *, fix: str, **details: Any
) -> DeliveryError | None:
    """The failure the HTTP status alone decides, or None to read the body.

    A redirect is permanent: Orion follows none, so only a corrected URL
    helps, and `fix` tells the operator what to change. 429 and 5xx are
    transient, after the provider's `Retry-After`. `details` go to the
    error (`reply_excerpt`, `provider_code`, ...).
    """
    if 300 <= reply.status < 400:
        return DeliveryError(
            f"{who} answered with a redirect (HTTP {reply.status}), which Orion "
            f"does not follow; {fix}.",
            permanent=True,
            status_code=reply.status,
            **details,
        )
    if reply.status == 429 or reply.status >= 500:
        return DeliveryError(
            f"{who} answered HTTP {reply.status}.",
            permanent=False,
            retry_after=reply.retry_after(),
            status_code=reply.status,
            **details,
        )
    return None


def _connection_error(
    exc: requests.exceptions.ConnectionError, secrets: tuple[str, ...]
) -> DeliveryError:
    """Tell "never reached the provider" apart from "lost the reply"."""
    text = str(exc)
    never_sent = any(
        marker in text
        for marker in (
            "NewConnectionError",
            "Failed to establish",
            "Name or service not known",
            "nodename nor servname",
            "Connection refused",
        )
    )
    if never_sent:
        return DeliveryError("Could not connect to the provider.", permanent=False)
    return DeliveryError(
        "The connection to the provider broke before it answered; the message may "
        "have been delivered.",
        permanent=False,
        unknown=True,
    )


_client: HttpClient | None = None
_client_lock = threading.Lock()


def default_client() -> HttpClient:
    """The process-wide client, so connections are reused across sends."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = HttpClient()
    return _client
