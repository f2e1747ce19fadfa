"""The Slack adapter against a fake Slack incoming webhook."""

from __future__ import annotations

import json

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
from tests.fakes.slack import ERRORS, FakeSlack

adapter = get_adapter("slack")

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*db-1* is down"}}]


def to(fake: FakeSlack, **fields: object) -> Envelope:
    return envelope(secrets={"webhook_url": fake.webhook_url}, **fields)


def send(fake: FakeSlack, read_timeout: float = 5.0, **fields: object) -> object:
    return adapter.send(to(fake, **fields), HttpClient(read_timeout=read_timeout))


def failure(fake: FakeSlack, **fields: object) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        send(fake, **fields)
    return caught.value


def test_sends_text_with_the_subject_in_bold(fake_slack: FakeSlack) -> None:
    result = send(fake_slack, subject="db-1", body="is down")

    assert fake_slack.requests[0].json() == {"text": "*db-1*\nis down"}
    assert result.status_code == 200 and result.provider_code == "ok"


def test_sends_blocks_with_a_text_fallback(fake_slack: FakeSlack) -> None:
    send(fake_slack, subject="db-1 down", body=json.dumps({"blocks": BLOCKS}))

    assert fake_slack.requests[0].json() == {"text": "db-1 down", "blocks": BLOCKS}


def test_keeps_the_text_given_with_the_blocks(fake_slack: FakeSlack) -> None:
    body = json.dumps({"text": "db-1 is down", "blocks": BLOCKS})

    send(fake_slack, subject="ignored", body=body)

    assert fake_slack.requests[0].json()["text"] == "db-1 is down"


def test_a_json_body_without_blocks_is_sent_as_text(fake_slack: FakeSlack) -> None:
    body = '{"host": "db-1", "disk": 97}'

    send(fake_slack, body=body)

    assert fake_slack.requests[0].json() == {"text": body}


@pytest.mark.parametrize(
    "blocks", [[], "section", [{"text": "no type"}], [1, 2]], ids=repr
)
def test_refuses_blocks_slack_would_refuse(blocks: object) -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_message({}, "", json.dumps({"blocks": blocks}), "")

    assert "body" in caught.value.message_dict


# -- size ----------------------------------------------------------------------


def test_takes_text_of_exactly_the_limit(fake_slack: FakeSlack) -> None:
    adapter.validate_message({}, "", "é" * 40_000, "")

    assert send(fake_slack, body="é" * 40_000).provider_code == "ok"


def test_refuses_text_one_character_over_the_limit() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_message({}, "", "é" * 40_001, "")

    assert "40001 characters" in caught.value.message_dict["body"][0]


def test_refuses_more_than_fifty_blocks() -> None:
    adapter.validate_message({}, "", json.dumps({"blocks": BLOCKS * 50}), "")

    with pytest.raises(ValidationError):
        adapter.validate_message({}, "", json.dumps({"blocks": BLOCKS * 51}), "")


# -- errors --------------------------------------------------------------------

# (Slack's error, permanent, credential dead): providers.md lists the first
# five; the others are from Slack's incoming webhook guide.
DOCUMENTED = [
    ("invalid_payload", True, False),
    ("action_prohibited", True, False),
    ("channel_not_found", True, False),
    ("channel_is_archived", True, False),
    ("rollup_error", False, False),
    ("invalid_token", True, True),
    ("no_service", True, True),
    ("no_team", True, True),
    ("team_disabled", True, True),
]


@pytest.mark.parametrize(("code", "permanent", "dead"), DOCUMENTED)
def test_classifies_each_documented_error(
    fake_slack: FakeSlack, code: str, permanent: bool, dead: bool
) -> None:
    fake_slack.fail_next(ERRORS[code])

    error = failure(fake_slack)

    assert error.status_code == ERRORS[code].status
    assert error.provider_code == code
    assert error.permanent is permanent
    assert error.credential_dead is dead


def test_retries_429_honouring_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next(Reply(429, "rate_limited", {"Retry-After": "30"}))

    error = failure(fake_slack)

    assert not error.permanent and error.retry_after == 30


@pytest.mark.parametrize("status", [502, 503, 504])
def test_retries_any_server_error(fake_slack: FakeSlack, status: int) -> None:
    fake_slack.fail_next(Reply(status, "<html>upstream</html>"))

    assert not failure(fake_slack).permanent


@pytest.mark.parametrize("status", [400, 401, 413, 418])
def test_any_other_client_error_is_permanent(
    fake_slack: FakeSlack, status: int
) -> None:
    fake_slack.fail_next(Reply(status, "something_else"))

    error = failure(fake_slack)

    assert error.permanent and not error.credential_dead


def test_a_webhook_slack_does_not_know_marks_the_credential_dead(
    fake_slack: FakeSlack,
) -> None:
    stale = to(fake_slack)
    fake_slack.path = "/services/T0FAKE01/B0FAKE02/rotatedToken0123"

    with pytest.raises(DeliveryError) as caught:
        adapter.send(stale, HttpClient(read_timeout=5.0))

    assert caught.value.provider_code == "no_service"
    assert caught.value.credential_dead


def test_an_http_200_without_ok_is_an_unknown_outcome(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next(Reply(200, "<html>captive portal</html>"))

    error = failure(fake_slack)

    assert error.unknown


def test_never_reports_the_webhook_token_when_the_reply_echoes_the_url(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.fail_next(Reply(500, f"no route to {fake_slack.webhook_url}"))

    error = failure(fake_slack)

    assert "fakeToken0123456789" not in error.reply_excerpt + error.message


# -- misbehaving servers -------------------------------------------------------


def test_a_timeout_is_an_unknown_outcome(fake_slack: FakeSlack) -> None:
    assert checks.timed_out(fake_slack, failure).unknown


def test_a_connection_closed_mid_reply_is_an_unknown_outcome(
    fake_slack: FakeSlack,
) -> None:
    assert checks.closed_mid_reply(fake_slack, failure).unknown


def test_a_slow_reply_within_the_timeout_is_a_success(fake_slack: FakeSlack) -> None:
    assert checks.slow_reply(fake_slack, send).provider_code == "ok"


def test_does_not_follow_a_redirect(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next(Reply(302, b"", {"Location": fake_slack.base_url + "/other"}))

    error = failure(fake_slack)

    assert error.permanent and error.status_code == 302
    assert [r.path for r in fake_slack.requests] == [fake_slack.path]


# -- configuration and recipients ----------------------------------------------

GOOD_URL = (
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
)


def test_accepts_the_provider_url(settings: object) -> None:
    settings.ORION_ALLOW_PRIVATE_DESTINATIONS = False  # type: ignore[attr-defined]

    assert adapter.clean_config({}, {"webhook_url": GOOD_URL}) == (
        {},
        {"webhook_url": GOOD_URL},
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/services/T0/B0/X0",
        "http://hooks.slack.com/services/T0/B0/X0",
        "https://hooks.slack.com/workflows/T0/A0/1/X0",
        "https://hooks.slack.com/services/T0/B0",
        "https://10.0.0.8/services/T0/B0/X0",
    ],
)
def test_refuses_a_webhook_url_that_is_not_slack(settings: object, url: str) -> None:
    settings.ORION_ALLOW_PRIVATE_DESTINATIONS = False  # type: ignore[attr-defined]

    with pytest.raises(ValidationError) as caught:
        adapter.clean_config({}, {"webhook_url": url})

    assert list(caught.value.message_dict) == ["secrets.webhook_url"]


def test_refuses_any_config_setting() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_config({"channel": "#ops"}, {"webhook_url": GOOD_URL})

    assert "config.channel" in caught.value.message_dict


def test_refuses_a_recipient() -> None:
    assert adapter.clean_recipient("  ") == ""

    with pytest.raises(ValidationError) as caught:
        adapter.clean_recipient("#ops")

    assert "recipient" in caught.value.message_dict


def test_declares_about_one_message_per_second() -> None:
    assert [(r.count, r.seconds) for r in adapter.rate_limits] == [(1, 1)]
    assert adapter.resend_after_unknown


# -- through the pipeline ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_notification_reaches_sent_through_the_pipeline(
    fake_slack: FakeSlack,
) -> None:
    channel = saved_channel(
        slug="ops-slack",
        name="Ops Slack channel",
        kind="slack",
        secrets={"webhook_url": fake_slack.webhook_url},
    )

    notification = checks.delivered(channel, subject="db-1", body="is down")

    assert notification.status == Status.SENT
    assert fake_slack.requests[0].json() == {"text": "*db-1*\nis down"}
