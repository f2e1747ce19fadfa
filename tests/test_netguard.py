"""The SSRF guard: private destinations are refused where the socket connects."""

from __future__ import annotations

import datetime
import ipaddress
import pathlib
import socket
import ssl
from collections.abc import Iterator

import pytest
from django.test import override_settings

from adapters.base import DeliveryError
from adapters.http import HttpClient
from adapters.netguard import refusal
from tests.fakes.base import Received, Reply
from tests.fakes.feishu import FakeFeishu

TOKEN = "tok3n-that-must-not-leak"


class Echo(FakeFeishu):
    """Any server will do: it only has to notice that something arrived."""

    def respond(self, received: Received) -> Reply:
        return Reply(200, {"code": 0})


@pytest.fixture
def server() -> Iterator[Echo]:
    with Echo() as fake:
        yield fake


def port(server: Echo) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def refused(url: str) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        HttpClient(connect_timeout=2, read_timeout=2).post(url, secrets=(TOKEN,))
    return caught.value


# -- refused before any byte is sent --------------------------------------------


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=False)
@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "127.1", "2130706433", "0.0.0.0"]
)
def test_refuses_a_loopback_destination_before_sending(server: Echo, host: str) -> None:
    error = refused(f"http://{host}:{port(server)}/hook?key={TOKEN}")

    assert error.permanent and not error.unknown
    assert "Refused to connect" in error.message
    assert TOKEN not in error.message
    assert server.requests == []


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=False)
def test_refuses_the_cloud_metadata_address() -> None:
    error = refused("http://169.254.169.254/latest/meta-data/iam/")

    assert error.permanent
    assert "link-local" in error.message


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=False)
def test_refuses_ipv6_loopback_before_connecting() -> None:
    try:
        listener = socket.create_server(("::1", 0), family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with listener:
        listener.setblocking(False)

        error = refused(f"http://[::1]:{listener.getsockname()[1]}/hook")

        assert error.permanent and "loopback" in error.message
        with pytest.raises(BlockingIOError):
            listener.accept()


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=False)
@pytest.mark.parametrize("scheme", ["ftp", "file", "gopher"])
def test_refuses_a_scheme_other_than_http(server: Echo, scheme: str) -> None:
    error = refused(f"{scheme}://127.0.0.1:{port(server)}/hook")

    assert error.permanent
    assert server.requests == []


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=True)
def test_refuses_a_scheme_other_than_http_even_when_private_is_allowed(
    server: Echo,
) -> None:
    refused(f"ftp://127.0.0.1:{port(server)}/hook")

    assert server.requests == []


# -- the address connected to, not the name ------------------------------------


@pytest.fixture
def rebinding_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `public.example` resolve to loopback, as a hostile DNS would."""
    real = socket.getaddrinfo

    def getaddrinfo(host: str, *args: object, **kwargs: object) -> list:
        if host == "public.example":
            host = "127.0.0.1"
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=False)
def test_refuses_a_public_name_that_resolves_to_a_private_address(
    server: Echo, rebinding_dns: None
) -> None:
    error = refused(f"http://public.example:{port(server)}/hook")

    assert "127.0.0.1" in error.message
    assert server.requests == []


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=True)
def test_connects_to_the_resolved_address_keeping_the_host_header(
    server: Echo, rebinding_dns: None
) -> None:
    HttpClient().post(f"http://public.example:{port(server)}/hook")

    assert server.requests[0].headers["host"] == f"public.example:{port(server)}"


def self_signed(directory: pathlib.Path, name: str) -> tuple[str, str]:
    """A certificate for `name` and its key, as PEM files; return their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=True)
def test_https_still_verifies_the_certificate_for_the_host_name(
    tmp_path: pathlib.Path, rebinding_dns: None
) -> None:
    cert, key = self_signed(tmp_path, "public.example")
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    fake = Echo()
    # The fake is plain HTTP; wrapping its listening socket makes it HTTPS.
    fake._server.socket = context.wrap_socket(fake._server.socket, server_side=True)

    with fake:
        url = f"https://public.example:{port(fake)}/hook"
        reply = HttpClient().post(url, verify=cert)

    assert reply.status == 200
    assert names == ["public.example"]


# -- allowed -------------------------------------------------------------------


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=True)
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_reaches_a_private_destination_when_allowed(server: Echo, host: str) -> None:
    reply = HttpClient().post(f"http://{host}:{port(server)}/hook")

    assert reply.status == 200
    assert len(server.requests) == 1


def test_reads_the_setting_at_request_time(server: Echo) -> None:
    url = f"http://127.0.0.1:{port(server)}/hook"

    with override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=False):
        refused(url)
    with override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=True):
        HttpClient().post(url)

    assert len(server.requests) == 1


# -- which addresses are public ------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.251",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",
    ],
)
def test_calls_a_non_public_address_what_it_is(address: str) -> None:
    assert refusal(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_lets_a_public_address_through(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == ""
