"""Feishu, WeCom and DingTalk bots judge an HTTP-level failure alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters import get_adapter
from adapters.base import DeliveryError, Outcome
from adapters.http import HttpClient
from tests.envelopes import envelope
from tests.fakes.base import FakeProvider, Reply
from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.feishu import FakeFeishu
from tests.fakes.wecom import FakeWeCom

BOTS = {"feishu": FakeFeishu, "wecom": FakeWeCom, "dingtalk": FakeDingTalk}


@pytest.fixture(params=sorted(BOTS))
def bot(request: pytest.FixtureRequest) -> Iterator[tuple[str, FakeProvider]]:
    with BOTS[request.param]() as fake:
        yield request.param, fake


def refused(bot: tuple[str, FakeProvider], reply: Reply) -> DeliveryError:
    kind, fake = bot
    fake.fail_next(reply)
    sent = envelope(
        config={"message_type": "text"},
        secrets={"webhook_url": fake.webhook_url},  # type: ignore[attr-defined]
    )
    with pytest.raises(DeliveryError) as caught:
        get_adapter(kind).send(sent, HttpClient(read_timeout=5))
    return caught.value


def test_a_redirect_is_permanent_and_not_followed(
    bot: tuple[str, FakeProvider],
) -> None:
    _, fake = bot

    error = refused(bot, Reply(302, b"", {"Location": fake.base_url + "/elsewhere"}))

    assert (error.outcome, error.status_code) == (Outcome.PERMANENT, 302)
    assert "webhook URL" in error.message
    assert len(fake.requests) == 1


def test_429_is_transient_after_the_providers_retry_after(
    bot: tuple[str, FakeProvider],
) -> None:
    error = refused(bot, Reply(429, "slow down", {"Retry-After": "7"}))

    assert (error.outcome, error.retry_after) == (Outcome.TRANSIENT, 7)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_transient(
    bot: tuple[str, FakeProvider], status: int
) -> None:
    error = refused(bot, Reply(status, "upstream trouble"))

    assert (error.outcome, error.status_code) == (Outcome.TRANSIENT, status)


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        (Reply(200, "<html>captive portal</html>"), Outcome.TRANSIENT),
        (Reply(200, {"data": {}}), Outcome.TRANSIENT),
        (Reply(404, "404 page not found"), Outcome.PERMANENT),
    ],
)
def test_a_reply_without_a_result_code_is_never_taken_for_success(
    bot: tuple[str, FakeProvider], reply: Reply, outcome: Outcome
) -> None:
    error = refused(bot, reply)

    assert error.outcome == outcome
    assert "without a JSON body" in error.message
