"""Refuse outbound requests to destinations Orion must not reach (SSRF).

Checking a URL's host name is not enough: a public-looking name can resolve
to 127.0.0.1, or resolve to a public address when checked and to a private
one a moment later (DNS rebinding). So the check lives in the connection
layer: each new connection resolves the name once, refuses every address
that is not public, connects to one of the addresses it just checked, and
checks the peer of the connected socket again. TLS still verifies the
certificate against the host name, since only the socket is replaced.
A pooled keep-alive connection was checked when it was opened.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext, gettext_noop
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.util.connection import allowed_gai_family

from adapters.base import DeliveryError, field_error, private_destinations_allowed

SCHEMES = ("http", "https")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(DeliveryError):
    """A destination the SSRF guard refuses; always permanent.

    Raised from inside the connection pool. It is not an `OSError`, so
    neither urllib3 nor requests wraps or retries it: it reaches the caller
    as it is. Its message names the address, never the URL (which may hold
    a token).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


def refusal(address: IPAddress) -> str:
    """Why `address` may not be sent to, or "" when it is a public address.

    The reason is English, as stored with a `DestinationRefused`; it is
    marked for translation so a form error can show it translated.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return refusal(address.ipv4_mapped)

    checks = (
        (address.is_loopback, gettext_noop("a loopback address")),
        (
            address.is_link_local,
            gettext_noop("a link-local address (cloud metadata lives here)"),
        ),
        (address.is_unspecified, gettext_noop("the unspecified address")),
        (address.is_multicast, gettext_noop("a multicast address")),
        (address.is_reserved, gettext_noop("a reserved address")),
        (address.is_private, gettext_noop("a private address")),
        (
            not address.is_global,
            gettext_noop("an address that is not publicly routable"),
        ),
    )
    for refused, reason in checks:
        if refused:
            return reason
    return ""


def check_address(address: str) -> None:
    """Raise `DestinationRefused` unless `address` (an IP literal) may be reached."""
    if private_destinations_allowed():
        return

    reason = refusal(ipaddress.ip_address(address.split("%", 1)[0]))
    if reason:
        raise DestinationRefused(
            f"Refused to connect to {address}: it is {reason}. Set "
            "ORION_ALLOW_PRIVATE_DESTINATIONS=true to allow private destinations."
        )


def check_url(url: str) -> None:
    """Raise a permanent `DeliveryError` unless `url` is http(s) with a host.

    The address itself is checked when connecting, by `GuardedHTTPAdapter`.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in SCHEMES:
        raise DeliveryError(
            "Only http and https destinations are allowed.", permanent=True
        )
    if not host:
        raise DeliveryError("The destination URL has no host.", permanent=True)


def validate_destination_url(url: str, field: str) -> None:
    """Raise `ValidationError` on `field` unless `url` is an http(s) URL Orion may use.

    Without private destinations allowed, a host that is an address literal
    (in any notation the resolver accepts, such as 2130706433) or a name
    under `localhost` must be public. Other names are not resolved here:
    DNS can change, so the connection layer checks again on every send.
    """
    try:
        parts = urlsplit(url or "")
        host = parts.hostname
    except ValueError:
        raise field_error(field, gettext("Enter a valid URL.")) from None
    if parts.scheme not in SCHEMES or not host:
        raise field_error(field, gettext("Enter an http or https URL with a host."))
    if private_destinations_allowed():
        return

    host = host.rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        raise field_error(
            field, gettext("This URL points at this machine (localhost).")
        )
    for address in _numeric_addresses(host):
        reason = refusal(address)
        if reason:
            raise field_error(
                field,
                gettext("This URL points at %(reason)s; Orion does not send there.")
                % {"reason": gettext(reason)},
            )


def _numeric_addresses(host: str) -> list[IPAddress]:
    """The addresses `host` stands for if it is an address literal; else []."""
    try:
        infos = socket.getaddrinfo(
            host, None, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST
        )
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def guarded_connection(
    host: str,
    port: int,
    timeout: Any,
    source_address: tuple[str, int] | None,
    socket_options: Any,
) -> socket.socket:
    """Resolve `host` once, refuse non-public addresses, connect to a checked one.

    Raise `DestinationRefused` when every address is refused, `OSError` (or
    `socket.gaierror`, `TimeoutError`) when none of the allowed ones answers.
    """
    host = host.strip("[]")
    infos = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    refused: DestinationRefused | None = None
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        try:
            check_address(sockaddr[0])
        except DestinationRefused as exc:
            refused = exc
            continue
        try:
            sock = _connect(
                (family, kind, proto), sockaddr, timeout, source_address, socket_options
            )
        except OSError as exc:
            error = exc
            continue
        return _checked_peer(sock)

    if error is not None:
        raise error
    if refused is not None:
        raise refused
    raise OSError(f"No address found for {host}.")


def _connect(
    socket_args: tuple[int, int, int],
    sockaddr: Any,
    timeout: Any,
    source_address: tuple[str, int] | None,
    socket_options: Any,
) -> socket.socket:
    sock = socket.socket(*socket_args)
    try:
        for option in socket_options or ():
            sock.setsockopt(*option)
        # urllib3 passes a sentinel for "the default timeout": leave it alone.
        if timeout is None or isinstance(timeout, (int, float)):
            sock.settimeout(timeout)
        if source_address:
            sock.bind(source_address)
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


def _checked_peer(sock: socket.socket) -> socket.socket:
    """Check the address the socket is really connected to, as a last guard."""
    try:
        check_address(sock.getpeername()[0])
    except BaseException:
        sock.close()
        raise
    return sock


class _GuardedConnectionMixin:
    """Replace urllib3's socket creation; the rest (TLS, SNI) is unchanged."""

    _dns_host: str
    host: str
    port: int
    timeout: Any
    source_address: tuple[str, int] | None
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        try:
            return guarded_connection(
                self._dns_host,
                self.port,
                self.timeout,
                self.source_address,
                self.socket_options,
            )
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        except TimeoutError as exc:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out."
            ) from exc
        except OSError as exc:
            raise NewConnectionError(
                self,  # type: ignore[arg-type]
                f"Failed to establish a new connection: {exc}",
            ) from exc


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedHTTPAdapter(HTTPAdapter):
    """A requests transport whose every connection goes through the guard."""

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block=block, **kwargs)
        self.poolmanager: PoolManager
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        # Through a proxy the socket goes to the proxy, not the destination,
        # so the guard could not see where the request really goes.
        raise DestinationRefused("Sending through a proxy is not supported.")
