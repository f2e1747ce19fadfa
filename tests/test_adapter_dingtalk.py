"""The DingTalk adapter against a fake DingTalk custom robot."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest
from django.core.exceptions import ValidationError

from adapters import get_adapter
from adapters.base import DeliveryError, Envelope
from adapters.dingtalk import sign
from adapters.http import HttpClient
from notifications.models import Status
from tests import adapter_checks as checks
from tests.builders import saved_channel
from tests.envelopes import envelope
from tests.fakes.base import Reply
from tests.fakes.dingtalk import FakeDingTalk, dingtalk_error, expected_sign

adapter = get_adapter("dingtalk")
SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"


@pytest.fixture
def signed_dingtalk() -> Iterator[FakeDingTalk]:
    with FakeDingTalk(secret=SECRET) as fake:
        yield fake


def to(fake: FakeDingTalk, message_type: str = "text", **fields: object) -> Envelope:
    secrets = {"webhook_url": fake.webhook_url}
    if fake.secret:
        secrets["signing_secret"] = fake.secret
    return envelope(secrets=secrets, config={"message_type": message_type}, **fields)


def send(fake: FakeDingTalk, read_timeout: float = 5.0, **fields: object) -> object:
    return adapter.send(to(fake, **fields), HttpClient(read_timeout=read_timeout))


def failure(fake: FakeDingTalk, **fields: object) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        send(fake, **fields)
    return caught.value


# -- signing -------------------------------------------------------------------


def test_signs_the_providers_test_vector() -> None:
    raw = sign(1577836800000, "SECthisissecret")

    assert raw == "zia+owVvGrFmUNmGYYTy9n9MupztopL59dMuIX56fGg="
    assert urlencode({"sign": raw}) == (
        "sign=zia%2BowVvGrFmUNmGYYTy9n9MupztopL59dMuIX56fGg%3D"
    )


def test_a_signed_request_carries_timestamp_and_sign_encoded_once(
    signed_dingtalk: FakeDingTalk,
) -> None:
    result = send(signed_dingtalk)

    received = signed_dingtalk.requests[0]
    timestamp = received.query["timestamp"][0]
    expected = quote(expected_sign(timestamp, SECRET), safe="")
    assert f"&sign={expected}" in "&" + received.raw_query
    assert received.query["access_token"] == [signed_dingtalk.token]
    assert len(timestamp) == 13
    assert result.provider_code == "0"


def test_an_unsigned_robot_gets_no_timestamp_or_sign(
    fake_dingtalk: FakeDingTalk,
) -> None:
    send(fake_dingtalk)

    assert set(fake_dingtalk.requests[0].query) == {"access_token"}


@pytest.mark.parametrize(("times", "errcode"), [(1, 0), (2, 310000)])
def test_the_fake_takes_a_sign_encoded_once_and_refuses_it_encoded_twice(
    signed_dingtalk: FakeDingTalk, times: int, errcode: int
) -> None:
    timestamp = str(int(time.time() * 1000))
    encoded = expected_sign(timestamp, SECRET)
    for _ in range(times):
        encoded = quote(encoded, safe="")
    url = f"{signed_dingtalk.webhook_url}&timestamp={timestamp}&sign={encoded}"

    reply = HttpClient().post(url, json={"msgtype": "text", "text": {"content": "x"}})

    assert reply.json()["errcode"] == errcode


def test_signs_again_once_when_dingtalk_refuses_the_signature(
    signed_dingtalk: FakeDingTalk,
) -> None:
    signed_dingtalk.fail_next(dingtalk_error(310000))

    result = send(signed_dingtalk)

    assert result.provider_code == "0"
    assert len(signed_dingtalk.requests) == 2


def test_gives_up_after_one_new_signature_with_a_stale_clock(
    signed_dingtalk: FakeDingTalk,
) -> None:
    signed_dingtalk.clock_skew = 2 * 3600

    error = failure(signed_dingtalk)

    assert error.permanent and error.provider_code == "310000"
    assert len(signed_dingtalk.requests) == 2


def test_a_missing_keyword_is_final_at_once_even_when_signed() -> None:
    with FakeDingTalk(secret=SECRET, keywords=("alert",)) as fake:
        error = failure(fake, body="disk full")

    assert error.permanent and error.provider_code == "310000"
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "errmsg",
    [
        "ip 203.0.113.7 not in whitelist",
        "错误描述:ip 不在白名单;解决方案:请在机器人安全设置中添加 ip;",
        "keywords not in content",
        "an explanation DingTalk has not used yet",
    ],
)
def test_a_security_refusal_that_does_not_name_the_timestamp_is_final_at_once(
    signed_dingtalk: FakeDingTalk, errmsg: str
) -> None:
    signed_dingtalk.fail_next(dingtalk_error(310000, errmsg))

    error = failure(signed_dingtalk)

    assert error.permanent and error.provider_code == "310000"
    assert len(signed_dingtalk.requests) == 1


@pytest.mark.parametrize(
    "errmsg",
    ["invalid timestamp", "错误描述:时间戳无效;", "timestamp is not within one hour"],
)
def test_a_security_refusal_naming_the_timestamp_is_signed_again_once(
    signed_dingtalk: FakeDingTalk, errmsg: str
) -> None:
    signed_dingtalk.fail_next(dingtalk_error(310000, errmsg))

    result = send(signed_dingtalk)

    assert result.provider_code == "0"
    assert len(signed_dingtalk.requests) == 2


def test_does_not_sign_again_when_the_robot_has_no_secret() -> None:
    with FakeDingTalk(keywords=("alert",)) as fake:
        error = failure(fake, body="disk full")

    assert error.permanent and error.provider_code == "310000"
    assert len(fake.requests) == 1


# -- bodies --------------------------------------------------------------------


def test_sends_a_text_message_with_mentions(fake_dingtalk: FakeDingTalk) -> None:
    recipient = adapter.clean_recipient("13800001111, manager4220 all")

    send(fake_dingtalk, subject="db-1", recipient=recipient)

    assert fake_dingtalk.requests[0].json() == {
        "msgtype": "text",
        "text": {"content": "db-1\nDisk almost full on db-1"},
        "at": {
            "atMobiles": ["13800001111"],
            "atUserIds": ["manager4220"],
            "isAtAll": True,
        },
    }


def test_a_markdown_message_is_titled_by_its_subject(
    fake_dingtalk: FakeDingTalk,
) -> None:
    send(
        fake_dingtalk, message_type="markdown", subject="db-1", recipient="13800001111"
    )

    body = fake_dingtalk.requests[0].json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "db-1"
    assert body["markdown"]["text"] == (
        "### db-1\n\nDisk almost full on db-1\n\n@13800001111"
    )
    assert body["at"]["atMobiles"] == ["13800001111"]


def test_a_markdown_message_without_subject_is_titled_by_its_first_line(
    fake_dingtalk: FakeDingTalk,
) -> None:
    send(fake_dingtalk, message_type="markdown", body="\n## Disk full\n- db-1: 97%")

    assert fake_dingtalk.requests[0].json()["markdown"]["title"] == "Disk full"


# -- error codes ---------------------------------------------------------------

# (errcode, permanent, at least this wait, credential dead), from providers.md.
DOCUMENTED = [
    (410100, False, 600.0, False),
    (130101, False, 600.0, False),
    (400013, True, None, True),
    (400101, True, None, True),
    (400102, True, None, True),
    (400105, True, None, False),
    (400106, True, None, True),
    (430101, True, None, False),
    (430102, True, None, False),
    (430103, True, None, False),
    (430104, True, None, False),
    (300001, True, None, True),
    (300005, True, None, True),
    (-1, False, None, False),
    (310000, True, None, False),
]


@pytest.mark.parametrize(("code", "permanent", "wait", "dead"), DOCUMENTED)
def test_classifies_each_documented_errcode(
    fake_dingtalk: FakeDingTalk,
    code: int,
    permanent: bool,
    wait: float | None,
    dead: bool,
) -> None:
    fake_dingtalk.fail_next(dingtalk_error(code))

    error = failure(fake_dingtalk)

    assert error.status_code == 200
    assert error.provider_code == str(code)
    assert error.permanent is permanent
    assert error.credential_dead is dead
    if wait is None:
        assert error.retry_after is None
    else:
        assert error.retry_after is not None and error.retry_after >= wait


def test_keys_on_errcode_whatever_the_errmsg(fake_dingtalk: FakeDingTalk) -> None:
    fake_dingtalk.fail_next(dingtalk_error(410100, "ok"))

    error = failure(fake_dingtalk)

    assert not error.permanent and error.provider_code == "410100"


def test_a_token_dingtalk_does_not_know_marks_the_credential_dead(
    fake_dingtalk: FakeDingTalk,
) -> None:
    stale = to(fake_dingtalk)
    fake_dingtalk.token = "another-token-0123456789"

    with pytest.raises(DeliveryError) as caught:
        adapter.send(stale, HttpClient(read_timeout=5.0))

    assert caught.value.credential_dead and caught.value.permanent


def test_retries_a_server_error_honouring_retry_after(
    fake_dingtalk: FakeDingTalk,
) -> None:
    fake_dingtalk.fail_next(Reply(502, "Bad Gateway", {"Retry-After": "12"}))

    error = failure(fake_dingtalk)

    assert not error.permanent and error.retry_after == 12


def test_never_reports_the_token_when_the_reply_echoes_the_url(
    signed_dingtalk: FakeDingTalk,
) -> None:
    signed_dingtalk.fail_next(Reply(500, f"failed: {signed_dingtalk.webhook_url}"))

    error = failure(signed_dingtalk)

    assert signed_dingtalk.token not in error.reply_excerpt + error.message


# -- misbehaving servers -------------------------------------------------------


def test_a_timeout_is_an_unknown_outcome(fake_dingtalk: FakeDingTalk) -> None:
    assert checks.timed_out(fake_dingtalk, failure).unknown


def test_a_connection_closed_mid_reply_is_an_unknown_outcome(
    fake_dingtalk: FakeDingTalk,
) -> None:
    assert checks.closed_mid_reply(fake_dingtalk, failure).unknown


def test_a_slow_reply_within_the_timeout_is_a_success(
    fake_dingtalk: FakeDingTalk,
) -> None:
    assert checks.slow_reply(fake_dingtalk, send).provider_code == "0"


def test_does_not_follow_a_redirect(fake_dingtalk: FakeDingTalk) -> None:
    fake_dingtalk.fail_next(
        Reply(302, b"", {"Location": fake_dingtalk.base_url + "/elsewhere"})
    )

    error = failure(fake_dingtalk)

    assert error.permanent and error.status_code == 302
    assert [r.path for r in fake_dingtalk.requests] == ["/robot/send"]


# -- configuration and recipients ----------------------------------------------

GOOD_URL = "https://oapi.dingtalk.com/robot/send?access_token=4a1b2c3d"


def test_accepts_the_provider_url_and_a_signing_secret(settings: object) -> None:
    settings.ORION_ALLOW_PRIVATE_DESTINATIONS = False  # type: ignore[attr-defined]
    secrets = {"webhook_url": GOOD_URL, "signing_secret": "SECthisissecret"}

    config, cleaned = adapter.clean_config({"message_type": "markdown"}, secrets)

    assert config == {"message_type": "markdown"}
    assert cleaned == secrets


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/robot/send?access_token=4a1b2c3d",
        "http://oapi.dingtalk.com/robot/send?access_token=4a1b2c3d",
        "https://oapi.dingtalk.com/robot/sendx?access_token=4a1b2c3d",
        "https://oapi.dingtalk.com/robot/send",
        "https://oapi.dingtalk.com/robot/send?access_token=4a1b2c3d&timestamp=1&sign=x",
        "https://169.254.169.254/robot/send?access_token=4a1b2c3d",
    ],
)
def test_refuses_a_webhook_url_that_is_not_dingtalk(settings: object, url: str) -> None:
    settings.ORION_ALLOW_PRIVATE_DESTINATIONS = False  # type: ignore[attr-defined]

    with pytest.raises(ValidationError) as caught:
        adapter.clean_config({}, {"webhook_url": url})

    assert list(caught.value.message_dict) == ["secrets.webhook_url"]


def test_refuses_a_signing_secret_without_sec() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_config(
            {}, {"webhook_url": GOOD_URL, "signing_secret": "thisissecret"}
        )

    assert list(caught.value.message_dict) == ["secrets.signing_secret"]


def test_refuses_an_unknown_message_type() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_config({"message_type": "feedCard"}, {"webhook_url": GOOD_URL})

    assert "config.message_type" in caught.value.message_dict


@pytest.mark.parametrize(
    ("given", "cleaned"),
    [
        ("", ""),
        ("all", "all"),
        ("13800001111;manager4220", "13800001111,manager4220"),
        ("+8613800001111 13800001111 13800001111", "+8613800001111,13800001111"),
    ],
)
def test_cleans_mentions(given: str, cleaned: str) -> None:
    assert adapter.clean_recipient(given) == cleaned


@pytest.mark.parametrize("given", ["@all", "bob!", "x" * 65])
def test_refuses_a_mention_dingtalk_cannot_take(given: str) -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_recipient(given)

    assert "recipient" in caught.value.message_dict


def test_declares_dingtalk_rate_limit_and_resends_after_unknown() -> None:
    assert [(r.count, r.seconds) for r in adapter.rate_limits] == [(20, 60)]
    assert adapter.resend_after_unknown


# -- through the pipeline ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_signed_notification_reaches_sent_through_the_pipeline(
    signed_dingtalk: FakeDingTalk,
) -> None:
    channel = saved_channel(
        slug="ops-dingtalk",
        name="Ops DingTalk group",
        kind="dingtalk",
        config={"message_type": "markdown"},
        secrets={
            "webhook_url": signed_dingtalk.webhook_url,
            "signing_secret": SECRET,
        },
    )

    notification = checks.delivered(channel, subject="db-1", body="is down")

    assert notification.status == Status.SENT
    assert "sign" in signed_dingtalk.requests[0].query
