"""The WeCom adapter against a fake WeCom group robot."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from adapters import get_adapter
from adapters.base import DeliveryError, Envelope
from adapters.http import HttpClient
from notifications.models import Status
from tests import adapter_checks as checks
from tests.builders import saved_channel
from tests.envelopes import envelope
from tests.fakes.base import Reply
from tests.fakes.wecom import FakeWeCom, wecom_error

adapter = get_adapter("wecom")


def to(fake: FakeWeCom, message_type: str = "text", **fields: object) -> Envelope:
    return envelope(
        secrets={"webhook_url": fake.webhook_url},
        config={"message_type": message_type},
        **fields,
    )


def send(fake: FakeWeCom, read_timeout: float = 5.0, **fields: object) -> object:
    return adapter.send(to(fake, **fields), HttpClient(read_timeout=read_timeout))


def failure(fake: FakeWeCom, **fields: object) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        send(fake, **fields)
    return caught.value


def test_sends_a_text_message_with_user_and_mobile_mentions(
    fake_wecom: FakeWeCom,
) -> None:
    recipient = adapter.clean_recipient("alice, 13800001111 @all")

    result = send(fake_wecom, subject="db-1", recipient=recipient)

    assert fake_wecom.requests[0].json() == {
        "msgtype": "text",
        "text": {
            "content": "db-1\nDisk almost full on db-1",
            "mentioned_list": ["alice", "@all"],
            "mentioned_mobile_list": ["13800001111"],
        },
    }
    assert result.provider_code == "0"


def test_sends_markdown_with_user_mentions_inline(fake_wecom: FakeWeCom) -> None:
    send(fake_wecom, message_type="markdown", subject="db-1", recipient="alice")

    assert fake_wecom.requests[0].json() == {
        "msgtype": "markdown",
        "markdown": {"content": "**db-1**\nDisk almost full on db-1\n<@alice>"},
    }


def test_sends_the_key_only_in_the_url(fake_wecom: FakeWeCom) -> None:
    send(fake_wecom)

    received = fake_wecom.requests[0]
    assert received.query["key"] == [fake_wecom.key]
    assert fake_wecom.key.encode() not in received.body


def test_a_key_wecom_does_not_know_marks_the_credential_dead(
    fake_wecom: FakeWeCom,
) -> None:
    stale = to(fake_wecom)
    fake_wecom.key = "rotated-key-9876543210"

    with pytest.raises(DeliveryError) as caught:
        adapter.send(stale, HttpClient(read_timeout=5.0))

    error = caught.value
    assert error.provider_code == "93000"
    assert error.permanent and error.credential_dead


# (errcode, permanent, at least this wait, credential dead), from providers.md.
DOCUMENTED = [
    (93000, True, None, True),
    (45009, False, 60.0, False),
    (40008, True, None, False),
    (-1, False, None, False),
]


@pytest.mark.parametrize(("code", "permanent", "wait", "dead"), DOCUMENTED)
def test_classifies_each_documented_errcode(
    fake_wecom: FakeWeCom,
    code: int,
    permanent: bool,
    wait: float | None,
    dead: bool,
) -> None:
    fake_wecom.fail_next(wecom_error(code))

    error = failure(fake_wecom)

    assert error.status_code == 200
    assert error.provider_code == str(code)
    assert error.permanent is permanent
    assert not error.unknown
    assert error.credential_dead is dead
    if wait is None:
        assert error.retry_after is None
    else:
        assert error.retry_after is not None and error.retry_after >= wait


def test_stops_retrying_system_busy_after_three_retries(
    fake_wecom: FakeWeCom,
) -> None:
    fake_wecom.fail_next(wecom_error(-1), times=2)

    third_retry = failure(fake_wecom, attempt=4)
    second_retry = failure(fake_wecom, attempt=3)

    assert third_retry.permanent
    assert not second_retry.permanent


def test_an_undocumented_errcode_is_permanent(fake_wecom: FakeWeCom) -> None:
    fake_wecom.fail_next(wecom_error(40058, "invalid parameter"))

    error = failure(fake_wecom)

    assert error.permanent and error.provider_code == "40058"


def test_retries_a_server_error_honouring_retry_after(fake_wecom: FakeWeCom) -> None:
    fake_wecom.fail_next(Reply(503, "Service Unavailable", {"Retry-After": "7"}))

    error = failure(fake_wecom)

    assert not error.permanent
    assert error.retry_after == 7


def test_a_page_without_wecom_json_is_not_success(fake_wecom: FakeWeCom) -> None:
    fake_wecom.fail_next(Reply(200, "<html>gateway</html>"))

    error = failure(fake_wecom)

    assert error.status_code == 200


def test_never_reports_the_key_when_the_reply_echoes_the_url(
    fake_wecom: FakeWeCom,
) -> None:
    fake_wecom.fail_next(Reply(500, f"upstream failed for {fake_wecom.webhook_url}"))

    error = failure(fake_wecom)

    assert fake_wecom.key not in error.reply_excerpt
    assert fake_wecom.key not in error.message


def test_a_timeout_is_an_unknown_outcome(fake_wecom: FakeWeCom) -> None:
    error = checks.timed_out(fake_wecom, failure)

    assert error.unknown and not error.permanent


def test_a_connection_closed_mid_reply_is_an_unknown_outcome(
    fake_wecom: FakeWeCom,
) -> None:
    assert checks.closed_mid_reply(fake_wecom, failure).unknown


def test_a_slow_reply_within_the_timeout_is_a_success(fake_wecom: FakeWeCom) -> None:
    assert checks.slow_reply(fake_wecom, send).provider_code == "0"


def test_does_not_follow_a_redirect(fake_wecom: FakeWeCom) -> None:
    fake_wecom.fail_next(
        Reply(302, b"", {"Location": fake_wecom.base_url + "/elsewhere"})
    )

    error = failure(fake_wecom)

    assert error.permanent and error.status_code == 302
    assert [r.path for r in fake_wecom.requests] == ["/cgi-bin/webhook/send"]


# -- message size -------------------------------------------------------------


@pytest.mark.parametrize(
    ("message_type", "body"),
    [
        ("text", "a" * 2048),
        ("text", "中" * 682 + "ab"),
        ("markdown", "a" * 4096),
        ("markdown", "中" * 1365 + "a"),
    ],
)
def test_takes_a_message_of_exactly_the_limit(
    fake_wecom: FakeWeCom, message_type: str, body: str
) -> None:
    adapter.validate_message({"message_type": message_type}, "", body, "")

    result = send(fake_wecom, message_type=message_type, body=body)

    assert result.provider_code == "0"


@pytest.mark.parametrize(
    ("message_type", "body", "size"),
    [
        ("text", "a" * 2049, 2049),
        ("text", "中" * 683, 2049),
        ("markdown", "a" * 4097, 4097),
        ("markdown", "中" * 1366, 4098),
    ],
)
def test_refuses_a_message_one_byte_over_the_limit(
    message_type: str, body: str, size: int
) -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_message({"message_type": message_type}, "", body, "")

    assert f"{size} bytes" in caught.value.message_dict["body"][0]


def test_counts_the_subject_towards_the_limit() -> None:
    with pytest.raises(ValidationError):
        adapter.validate_message({"message_type": "text"}, "disk", "a" * 2044, "")


def test_refuses_mobiles_and_all_in_a_markdown_message() -> None:
    for recipient in ("13800001111", "@all"):
        with pytest.raises(ValidationError) as caught:
            adapter.validate_message(
                {"message_type": "markdown"}, "", "disk full", recipient
            )
        assert "recipient" in caught.value.message_dict


# -- configuration and recipients ----------------------------------------------

GOOD_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx"


def test_accepts_the_provider_url(settings: object) -> None:
    settings.ORION_ALLOW_PRIVATE_DESTINATIONS = False  # type: ignore[attr-defined]

    config, secrets = adapter.clean_config({}, {"webhook_url": GOOD_URL})

    assert config == {"message_type": "text"}
    assert secrets == {"webhook_url": GOOD_URL}


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/cgi-bin/webhook/send?key=abc",
        "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
        "https://qyapi.weixin.qq.com/cgi-bin/message/send?key=abc",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=",
        "https://127.0.0.1/cgi-bin/webhook/send?key=abc",
    ],
)
def test_refuses_a_webhook_url_that_is_not_wecom(settings: object, url: str) -> None:
    settings.ORION_ALLOW_PRIVATE_DESTINATIONS = False  # type: ignore[attr-defined]

    with pytest.raises(ValidationError) as caught:
        adapter.clean_config({}, {"webhook_url": url})

    assert list(caught.value.message_dict) == ["secrets.webhook_url"]


def test_refuses_an_unknown_message_type() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_config({"message_type": "news"}, {"webhook_url": GOOD_URL})

    assert "config.message_type" in caught.value.message_dict


def test_requires_the_webhook_url() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_config({}, {})

    assert "secrets.webhook_url" in caught.value.message_dict


@pytest.mark.parametrize(
    ("given", "cleaned"),
    [
        ("", ""),
        ("alice", "alice"),
        ("alice; bob.li,alice", "alice,bob.li"),
        ("13800001111 +8613800001111", "13800001111,+8613800001111"),
        ("@all", "@all"),
    ],
)
def test_cleans_mentions(given: str, cleaned: str) -> None:
    assert adapter.clean_recipient(given) == cleaned


@pytest.mark.parametrize("given", ["al ice!", "_alice", "@everyone"])
def test_refuses_a_mention_wecom_cannot_take(given: str) -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_recipient(given)

    assert "recipient" in caught.value.message_dict


def test_declares_wecom_rate_limit_and_resends_after_unknown() -> None:
    assert [(r.count, r.seconds) for r in adapter.rate_limits] == [(20, 60)]
    assert adapter.resend_after_unknown


# -- through the pipeline ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_notification_reaches_sent_through_the_pipeline(
    fake_wecom: FakeWeCom,
) -> None:
    channel = saved_channel(
        slug="ops-wecom",
        name="Ops WeCom group",
        kind="wecom",
        secrets={"webhook_url": fake_wecom.webhook_url},
    )

    notification = checks.delivered(channel, body="db-1 is down", recipient="alice")

    assert notification.status == Status.SENT
    assert fake_wecom.requests[0].json()["text"]["mentioned_list"] == ["alice"]
