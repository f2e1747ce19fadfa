"""The Feishu adapter against a fake Feishu bot on loopback."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from adapters import get_adapter
from adapters.base import DeliveryError, Envelope, Outcome
from adapters.feishu import sign
from adapters.http import HttpClient
from notifications.delivery import deliver_next
from notifications.models import (
    DeliveryAttempt,
    Notification,
    Status,
    StatusChange,
)
from tests.builders import feishu_channel_for, idle_channel, notify
from tests.fakes.base import Reply
from tests.fakes.feishu import CODES, MAX_BODY_BYTES, FakeFeishu, feishu_error

feishu = get_adapter("feishu")
TOKEN = "tok-9f8e7d6c5b4a3210"
SECRET = "sign-secret-0a1b2c3d4e"


@pytest.fixture
def fake() -> Iterator[FakeFeishu]:
    with FakeFeishu(token=TOKEN) as server:
        yield server


@pytest.fixture
def signed_fake() -> Iterator[FakeFeishu]:
    with FakeFeishu(token=TOKEN, secret=SECRET) as server:
        yield server


@pytest.fixture
def http() -> HttpClient:
    return HttpClient(read_timeout=5)


def envelope(
    fake: FakeFeishu,
    *,
    body: str = "Disk almost full on db-1",
    subject: str = "",
    recipient: str = "",
    config: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
) -> Envelope:
    return Envelope(
        notification_id=uuid.uuid4(),
        channel_slug="ops",
        config={"message_type": "text", **(config or {})},
        secrets={"webhook_url": fake.webhook_url, **(secrets or {})},
        recipient=recipient,
        subject=subject,
        body=body,
    )


def refused(fake: FakeFeishu, http: HttpClient, **kwargs: Any) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        feishu.send(envelope(fake, **kwargs), http)
    return caught.value


def sent_json(
    fake: FakeFeishu, http: HttpClient, message_type: str, **kwargs: Any
) -> Any:
    """Send a message of `message_type`; return the JSON body `fake` received."""
    feishu.send(envelope(fake, config={"message_type": message_type}, **kwargs), http)
    return fake.requests[0].json()


# -- signing ----------------------------------------------------------------


def test_the_signature_matches_feishus_published_vector() -> None:
    assert sign(1599360473, "demo") == "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="


def test_the_signature_is_not_dingtalks_swapped_hmac() -> None:
    swapped = "DkEDUyVoOOJ539qBvUgMyzkzIdRWlf4e/V3Rq+ONJnQ="

    assert sign(1599360473, "demo") != swapped


def test_a_signed_send_is_accepted_by_a_bot_that_checks_signatures(
    signed_fake: FakeFeishu, http: HttpClient
) -> None:
    result = feishu.send(
        envelope(signed_fake, secrets={"signing_secret": SECRET}), http
    )

    assert result.provider_code == "0"
    body = signed_fake.requests[0].json()
    assert isinstance(body["timestamp"], str) and body["timestamp"].isdigit()
    assert body["sign"] == sign(int(body["timestamp"]), SECRET)


def test_an_unsigned_send_carries_no_signature_fields(
    fake: FakeFeishu, http: HttpClient
) -> None:
    feishu.send(envelope(fake), http)

    body = fake.requests[0].json()
    assert "sign" not in body and "timestamp" not in body


def test_a_rejected_signature_is_signed_again_once_and_then_fails_for_good(
    signed_fake: FakeFeishu, http: HttpClient
) -> None:
    error = refused(signed_fake, http, secrets={"signing_secret": "the-wrong-one"})

    assert error.provider_code == "19021"
    assert error.outcome == Outcome.PERMANENT
    assert len(signed_fake.requests) == 2


def test_a_stale_timestamp_succeeds_when_signed_again(
    signed_fake: FakeFeishu, http: HttpClient
) -> None:
    signed_fake.fail_next(feishu_error(19021, CODES[19021]))

    result = feishu.send(
        envelope(signed_fake, secrets={"signing_secret": SECRET}), http
    )

    assert result.provider_code == "0"
    assert len(signed_fake.requests) == 2


def test_19021_without_a_signing_secret_is_not_retried(
    fake: FakeFeishu, http: HttpClient
) -> None:
    fake.fail_next(feishu_error(19021, CODES[19021]))

    error = refused(fake, http)

    assert error.provider_code == "19021"
    assert len(fake.requests) == 1


# -- Feishu's business codes --------------------------------------------------


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (9499, Outcome.PERMANENT),
        (19021, Outcome.PERMANENT),
        (19022, Outcome.PERMANENT),
        (19024, Outcome.PERMANENT),
        (19001, Outcome.PERMANENT),
        (11232, Outcome.TRANSIENT),
        (99991, Outcome.PERMANENT),
    ],
)
def test_each_documented_code_is_classified(
    fake: FakeFeishu, http: HttpClient, code: int, outcome: Outcome
) -> None:
    fake.fail_next(feishu_error(code, CODES.get(code, "something new")))

    error = refused(fake, http)

    assert error.outcome == outcome
    assert error.provider_code == str(code)
    assert error.status_code == 200
    assert error.credential_dead is (code == 19001)
    if code == 11232:
        assert error.retry_after is not None and error.retry_after > 0
    else:
        assert error.retry_after is None


def test_a_deleted_bot_is_reported_as_a_dead_credential(
    fake: FakeFeishu, http: HttpClient
) -> None:
    deleted = f"{fake.base_url}/open-apis/bot/v2/hook/deleted-bot-token"

    error = refused(fake, http, secrets={"webhook_url": deleted})

    assert (error.provider_code, error.outcome) == ("19001", Outcome.PERMANENT)
    assert error.credential_dead


def test_missing_keywords_are_a_permanent_configuration_error(
    http: HttpClient,
) -> None:
    with FakeFeishu(token=TOKEN, keywords=("[Orion]",)) as keyworded:
        error = refused(keyworded, http, body="no keyword here")
        ok = feishu.send(envelope(keyworded, body="[Orion] disk full"), http)

    assert (error.provider_code, error.outcome) == ("19024", Outcome.PERMANENT)
    assert ok.provider_code == "0"


def test_a_dead_bot_flags_its_channel_for_an_operator(
    db: None, fake: FakeFeishu
) -> None:
    channel = feishu_channel_for(fake)
    fake.fail_next(feishu_error(19001, CODES[19001]))
    notification = notify(channel)

    deliver_next()

    channel.refresh_from_db()
    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert channel.credential_dead_at is not None
    assert channel.enabled
    assert channel.last_error


# -- HTTP-level failures ----------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_transient(
    fake: FakeFeishu, http: HttpClient, status: int
) -> None:
    fake.fail_next(Reply(status, "upstream trouble"))

    error = refused(fake, http)

    assert (error.outcome, error.status_code) == (Outcome.TRANSIENT, status)


def test_http_429_is_transient_and_honours_retry_after(
    fake: FakeFeishu, http: HttpClient
) -> None:
    fake.fail_next(Reply(429, "slow down", headers={"Retry-After": "7"}))

    error = refused(fake, http)

    assert error.outcome == Outcome.TRANSIENT
    assert error.retry_after == 7


def test_http_200_without_json_is_not_taken_for_success(
    fake: FakeFeishu, http: HttpClient
) -> None:
    fake.fail_next(Reply(200, "<html>captive portal</html>"))

    error = refused(fake, http)

    assert error.outcome == Outcome.TRANSIENT
    assert "without a JSON body" in error.message


def test_a_client_error_without_json_is_permanent(
    fake: FakeFeishu, http: HttpClient
) -> None:
    fake.fail_next(Reply(404, "404 page not found"))

    error = refused(fake, http)

    assert (error.outcome, error.status_code) == (Outcome.PERMANENT, 404)


def test_a_redirect_is_a_permanent_configuration_error(
    fake: FakeFeishu, http: HttpClient
) -> None:
    fake.fail_next(Reply(302, b"", {"Location": fake.base_url + "/elsewhere"}))

    error = refused(fake, http)

    assert (error.outcome, error.status_code) == (Outcome.PERMANENT, 302)
    assert "redirect" in error.message
    assert len(fake.requests) == 1


def test_http_200_with_a_legacy_success_body_is_sent(
    fake: FakeFeishu, http: HttpClient
) -> None:
    fake.fail_next(Reply(200, {"StatusCode": 0, "StatusMessage": "success"}))

    assert feishu.send(envelope(fake), http).provider_code == "0"


def test_a_read_timeout_is_an_unknown_outcome(fake: FakeFeishu) -> None:
    fake.behave("hang")

    error = refused(fake, HttpClient(read_timeout=0.5))

    assert error.outcome == Outcome.UNKNOWN
    assert len(fake.requests) == 1


@pytest.mark.parametrize("behaviour", ["close_mid_reply", "close"])
def test_a_connection_dropped_after_the_request_is_an_unknown_outcome(
    fake: FakeFeishu, http: HttpClient, behaviour: str
) -> None:
    fake.behave(behaviour)

    error = refused(fake, http)

    assert error.outcome == Outcome.UNKNOWN
    assert len(fake.requests) == 1


def test_a_slow_reply_within_the_timeout_is_sent(fake: FakeFeishu) -> None:
    fake.delay = 0.3

    result = feishu.send(envelope(fake), HttpClient(read_timeout=5))

    assert result.provider_code == "0"


# -- message bodies ---------------------------------------------------------


def test_a_text_message_has_feishus_text_shape(
    fake: FakeFeishu, http: HttpClient
) -> None:
    feishu.send(envelope(fake, subject="Disk full", body="db-1 at 97%"), http)

    received = fake.requests[0]
    assert received.headers["content-type"].startswith("application/json")
    assert received.json() == {
        "msg_type": "text",
        "content": {"text": "Disk full\ndb-1 at 97%"},
    }


def test_a_post_message_has_a_title_and_one_paragraph_per_line(
    fake: FakeFeishu, http: HttpClient
) -> None:
    body = sent_json(
        fake, http, "post", subject="Disk full", body="db-1 at 97%\ndb-2 at 91%"
    )

    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == "Disk full"
    assert post["content"] == [
        [{"tag": "text", "text": "db-1 at 97%"}],
        [{"tag": "text", "text": "db-2 at 91%"}],
    ]


def test_a_card_sits_at_the_top_level_not_under_content(
    fake: FakeFeishu, http: HttpClient
) -> None:
    body = sent_json(
        fake, http, "interactive", subject="Disk full", body="**db-1** at 97%"
    )

    assert body["msg_type"] == "interactive"
    assert "content" not in body
    card = body["card"]
    assert card["header"]["title"]["content"] == "Disk full"
    assert card["body"]["elements"][0]["content"] == "**db-1** at 97%"


def test_a_body_that_is_a_card_is_sent_as_that_card(
    fake: FakeFeishu, http: HttpClient
) -> None:
    card = {"schema": "2.0", "body": {"elements": [{"tag": "hr"}]}}

    body = sent_json(fake, http, "interactive", body=json.dumps(card))

    assert body == {"msg_type": "interactive", "card": card}


def test_a_broken_card_is_refused_at_creation() -> None:
    with pytest.raises(ValidationError) as caught:
        feishu.validate_message({"message_type": "interactive"}, "", "{not json", "")

    assert "body" in caught.value.message_dict


def test_a_markdown_card_mentions_with_the_cards_own_at_tags(
    fake: FakeFeishu, http: HttpClient
) -> None:
    body = sent_json(
        fake, http, "interactive", body="disk full", recipient="ou_aaa, all"
    )

    text = body["card"]["body"]["elements"][0]["content"]
    assert text == "disk full\n<at id=ou_aaa></at> <at id=all></at>"


@pytest.mark.parametrize(
    ("card", "elements"),
    [
        (
            {"schema": "2.0", "body": {"elements": [{"tag": "hr"}]}},
            ("body", "elements"),
        ),
        ({"elements": [{"tag": "hr"}]}, ("elements",)),
    ],
)
def test_a_card_given_as_json_gets_the_mentions_appended(
    fake: FakeFeishu, http: HttpClient, card: dict, elements: tuple[str, ...]
) -> None:
    body = sent_json(
        fake, http, "interactive", body=json.dumps(card), recipient="ou_aaa ou_bbb"
    )

    sent = body["card"]
    for key in elements:
        sent = sent[key]
    assert sent == [
        {"tag": "hr"},
        {"tag": "markdown", "content": "<at id=ou_aaa></at> <at id=ou_bbb></at>"},
    ]


def test_mentions_are_refused_for_a_card_without_elements() -> None:
    card = {"type": "template", "data": {"template_id": "AAqk1234"}}

    feishu.validate_message(
        {"message_type": "interactive"}, "", json.dumps(card), recipient=""
    )
    with pytest.raises(ValidationError) as caught:
        feishu.validate_message(
            {"message_type": "interactive"}, "", json.dumps(card), recipient="ou_aaa"
        )

    assert "mentions" in caught.value.message_dict["body"][0]


def test_a_text_message_mentions_each_recipient(
    fake: FakeFeishu, http: HttpClient
) -> None:
    feishu.send(envelope(fake, body="look", recipient="ou_aaa, ou_bbb"), http)

    text = fake.requests[0].json()["content"]["text"]
    assert '<at user_id="ou_aaa"></at>' in text
    assert '<at user_id="ou_bbb"></at>' in text
    assert text.endswith("look")


def test_a_text_message_can_mention_everyone(
    fake: FakeFeishu, http: HttpClient
) -> None:
    feishu.send(envelope(fake, body="all hands", recipient="all"), http)

    assert '<at user_id="all">all</at>' in fake.requests[0].json()["content"]["text"]


def test_a_post_message_mentions_with_at_tags(
    fake: FakeFeishu, http: HttpClient
) -> None:
    body = sent_json(fake, http, "post", recipient="ou_aaa")

    lines = body["content"]["post"]["zh_cn"]["content"]
    assert lines[-1] == [{"tag": "at", "user_id": "ou_aaa"}]


# -- the 20 KB limit ----------------------------------------------------------


def largest_accepted_body(char: str = "a") -> str:
    """The longest body of `char` that `validate_message` accepts."""
    low, high = 0, MAX_BODY_BYTES
    while low < high:
        middle = (low + high + 1) // 2
        try:
            feishu.validate_message({"message_type": "text"}, "", char * middle, "")
        except ValidationError:
            high = middle - 1
        else:
            low = middle
    return char * low


def test_the_largest_body_allowed_at_creation_is_accepted_by_feishu_when_signed(
    signed_fake: FakeFeishu, http: HttpClient
) -> None:
    body = largest_accepted_body()
    # The limit is not wasted: only the JSON envelope and signature are spared.
    assert len(body) > MAX_BODY_BYTES - 150

    result = feishu.send(
        envelope(signed_fake, body=body, secrets={"signing_secret": SECRET}), http
    )

    assert result.provider_code == "0"
    assert len(signed_fake.requests[0].body) <= MAX_BODY_BYTES


def test_one_byte_more_is_refused_at_creation() -> None:
    body = largest_accepted_body() + "a"

    with pytest.raises(ValidationError) as caught:
        feishu.validate_message({"message_type": "text"}, "", body, "")

    assert "20480" in caught.value.message_dict["body"][0]


def test_the_limit_counts_bytes_not_characters() -> None:
    ascii_body = largest_accepted_body("a")
    cjk_body = largest_accepted_body("警")

    # A CJK character is 3 bytes in UTF-8, so a third as many fit.
    assert len(ascii_body) - 3 < len(cjk_body) * 3 <= len(ascii_body)


def test_a_notification_over_the_limit_is_not_created(db: None) -> None:
    channel = idle_channel()

    with pytest.raises(ValidationError) as caught:
        notify(channel, body="a" * MAX_BODY_BYTES)

    assert "body" in caught.value.message_dict
    assert not Notification.objects.exists()


# -- configuration ------------------------------------------------------------


def clean(config: dict[str, Any], secrets: dict[str, str]) -> None:
    feishu.clean_config(config, secrets)


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=False)
@pytest.mark.parametrize(
    "url",
    [
        "https://open.feishu.cn/open-apis/bot/v2/hook/abc-123",
        "https://open.larksuite.com/open-apis/bot/v2/hook/abc_123",
    ],
)
def test_feishu_and_lark_hooks_are_accepted(url: str) -> None:
    clean({}, {"webhook_url": url})


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=False)
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/open-apis/bot/v2/hook/abc",
        "https://open.feishu.cn.evil.example/open-apis/bot/v2/hook/abc",
        "http://open.feishu.cn/open-apis/bot/v2/hook/abc",
        "https://oapi.dingtalk.com/open-apis/bot/v2/hook/abc",
    ],
)
def test_a_hook_on_another_host_is_refused(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean({}, {"webhook_url": url})

    assert "secrets.webhook_url" in caught.value.message_dict


@pytest.mark.parametrize(
    "url",
    [
        "https://open.feishu.cn/open-apis/bot/v2/hook/",
        "https://open.feishu.cn/robot/send?access_token=abc",
        "https://open.feishu.cn/open-apis/bot/v2/hook/abc/extra",
    ],
)
def test_a_hook_with_the_wrong_path_is_refused(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean({}, {"webhook_url": url})

    assert "secrets.webhook_url" in caught.value.message_dict


def test_an_unknown_message_type_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        clean(
            {"message_type": "markdown"},
            {"webhook_url": "https://open.feishu.cn/open-apis/bot/v2/hook/abc"},
        )

    assert "config.message_type" in caught.value.message_dict


def test_a_missing_webhook_url_and_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        clean({"colour": "red"}, {"token": "abc"})

    assert set(caught.value.message_dict) == {
        "config.colour",
        "secrets.token",
        "secrets.webhook_url",
    }


def test_the_message_type_defaults_to_text() -> None:
    config, _ = feishu.clean_config(
        {}, {"webhook_url": "https://open.feishu.cn/open-apis/bot/v2/hook/abc"}
    )

    assert config == {"message_type": "text"}


# -- secrets stay secret ------------------------------------------------------


def echoes(fake: FakeFeishu) -> list[Reply]:
    path = f"/open-apis/bot/v2/hook/{TOKEN}"
    return [
        Reply(502, f"bad gateway while proxying {fake.webhook_url}"),
        Reply(502, f"no upstream for POST {path}"),
        Reply(200, {"code": 9499, "msg": f"Bad Request: {fake.webhook_url}"}),
        Reply(200, {"code": 99991, "msg": f"unknown hook {fake.webhook_url}"}),
        Reply(200, {"code": 99991, "msg": f"no route for POST {path}"}),
    ]


@pytest.mark.parametrize("echo", range(5))
def test_secrets_never_reach_the_database_or_the_logs(
    db: None,
    signed_fake: FakeFeishu,
    caplog: pytest.LogCaptureFixture,
    echo: int,
) -> None:
    for name in ("notifications", "adapters"):
        caplog.set_level(logging.DEBUG, logger=name)
    channel = feishu_channel_for(signed_fake, secrets={"signing_secret": SECRET})
    notification = notify(channel)
    signed_fake.fail_next(echoes(signed_fake)[echo])

    deliver_next()

    notification.refresh_from_db()
    channel.refresh_from_db()
    assert notification.status in (Status.RETRYING, Status.FAILED)
    stored = [
        notification.last_error,
        channel.last_error,
        caplog.text,
        *(json.dumps(row, default=str) for row in DeliveryAttempt.objects.values()),
        *StatusChange.objects.values_list("reason", flat=True),
    ]
    for text in stored:
        assert TOKEN not in text
        assert SECRET not in text
        assert signed_fake.webhook_url not in text
    assert DeliveryAttempt.objects.get().reply_excerpt
