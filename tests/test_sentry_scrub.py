"""Error reports and traces sent to Sentry carry no channel secret.

The events are the SDK's own: an incident is played through a real
`sentry_sdk.Client` whose transport records the envelopes it would send.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.integrations.stdlib import StdlibIntegration
from sentry_sdk.transport import Transport

from adapters.base import redact
from adapters.http import HttpClient
from orion.sentry import scrub_event, sdk_options
from tests.fakes.feishu import FakeFeishu

TOKEN = "7c0e2b14-93d5-4f6a-b8e1-5d2c9a0f3e71"
DSN = "https://public@sentry.invalid/1"
# Everything the SDK can collect, for checking that the scrubber alone holds.
EVERYTHING = {
    # All of its defaults (bodies, headers, frame variables), and user data.
    "data_collection": {"user_info": True},
    "include_local_variables": True,
    "max_request_body_size": "always",
    "attach_stacktrace": True,
}


class Recorder(Transport):
    """Keeps each envelope the client would send."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def items(self, kind: str) -> list[dict[str, Any]]:
        return [
            json.loads(item.get_bytes())
            for envelope in self.envelopes
            for item in envelope.items
            if item.type == kind
        ]

    def sent(self) -> str:
        return b"".join(e.serialize() for e in self.envelopes).decode()


@pytest.fixture
def feishu() -> Iterator[FakeFeishu]:
    with FakeFeishu(token=TOKEN) as fake:
        yield fake


def client(recorder: Recorder, **options: Any) -> sentry_sdk.Client:
    return sentry_sdk.Client(
        dsn=DSN,
        transport=recorder,
        default_integrations=False,
        integrations=[LoggingIntegration(), StdlibIntegration()],
        **options,
    )


def deliver(webhook_url: str) -> None:
    raise RuntimeError(f"Feishu refused the message posted to {webhook_url}")


def incident(reporting: sentry_sdk.Client, url: str) -> None:
    """A failed delivery, reported the ways Orion's code and the SDK report."""
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(reporting)
        scope.set_extra("destination", url)
        scope.set_context("channel", {"slug": "ops", "endpoint": url})
        logging.getLogger("adapters.feishu").warning("posting to %s", url)
        HttpClient().post_json(url, {"msg_type": "text", "content": {"text": "x"}})
        try:
            deliver(url)
        except RuntimeError:
            logging.getLogger("notifications.delivery").exception(
                "delivery to %s crashed", url
            )
        sentry_sdk.capture_message(f"gave up posting to {url}")
    reporting.close()


def traced(reporting: sentry_sdk.Client, url: str) -> None:
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(reporting)
        with sentry_sdk.start_transaction(name=f"deliver {url}", op="task"):
            HttpClient().post_json(url, {"msg_type": "text", "content": {"text": "x"}})
    reporting.close()


def frames(event: dict[str, Any]) -> list[dict[str, Any]]:
    """Every stack frame of an event: its exceptions' and its threads'."""
    holders = [
        *event.get("exception", {}).get("values", []),
        *event.get("threads", {}).get("values", []),
    ]
    return [
        frame
        for holder in holders
        for frame in (holder.get("stacktrace") or {}).get("frames", [])
    ]


# -- the incident leaks without the scrubber ---------------------------------


def test_without_the_scrubber_the_token_is_everywhere_a_report_holds_text(
    feishu: FakeFeishu,
) -> None:
    recorder = Recorder()

    incident(client(recorder, **EVERYTHING), feishu.webhook_url)

    crash, message = recorder.items("event")
    assert TOKEN in crash["logentry"]["formatted"]
    assert TOKEN in json.dumps(crash["logentry"]["params"])
    assert TOKEN in crash["exception"]["values"][0]["value"]
    assert TOKEN in json.dumps([frame.get("vars") for frame in frames(crash)])
    crumbs = crash["breadcrumbs"]["values"]
    assert any(TOKEN in crumb.get("message", "") for crumb in crumbs)
    assert any(TOKEN in json.dumps(crumb.get("data", {})) for crumb in crumbs)
    assert TOKEN in json.dumps(crash["extra"])
    assert TOKEN in json.dumps(crash["contexts"]["channel"])
    assert TOKEN in json.dumps([frame.get("vars") for frame in frames(message)])


# -- with it, nothing does ----------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [sdk_options(), {**EVERYTHING, "before_send": scrub_event}],
    ids=["orion's settings", "everything collected"],
)
def test_no_token_survives_in_what_would_be_sent(
    feishu: FakeFeishu, options: dict[str, Any]
) -> None:
    recorder = Recorder()

    incident(client(recorder, **options), feishu.webhook_url)

    crash, message = recorder.items("event")
    assert TOKEN not in recorder.sent()
    assert "/open-apis/bot/v2/hook/***" in crash["logentry"]["formatted"]
    assert "/open-apis/bot/v2/hook/***" in crash["exception"]["values"][0]["value"]
    assert "params" not in crash["logentry"]
    assert frames(crash)
    for event in (crash, message):
        for frame in frames(event):
            assert "vars" not in frame


def test_no_token_survives_in_a_trace(feishu: FakeFeishu) -> None:
    recorder = Recorder()

    traced(
        client(recorder, traces_sample_rate=1.0, **sdk_options()), feishu.webhook_url
    )

    (transaction,) = recorder.items("transaction")
    assert [span["op"] for span in transaction["spans"]] == ["http.client"]
    assert TOKEN not in recorder.sent()


def test_orions_settings_start_the_sdk_without_a_deprecation_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sentry_sdk.Client(dsn=DSN, transport=Recorder(), **sdk_options()).close()


# -- each provider's URL shape --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (
            f"POST https://open.feishu.cn/open-apis/bot/v2/hook/{TOKEN} failed",
            "POST https://open.feishu.cn/open-apis/bot/v2/hook/*** failed",
        ),
        (
            f"no route for /open-apis/bot/v2/hook/{TOKEN}?x=1",
            "no route for /open-apis/bot/v2/hook/***?x=1",
        ),
        (
            f"https://open.larksuite.com/open-apis/bot/v2/hook/{TOKEN}",
            "https://open.larksuite.com/open-apis/bot/v2/hook/***",
        ),
        (
            f"https://hooks.slack.com/services/T0123ABC/B0456DEF/{TOKEN}",
            "https://hooks.slack.com/services/T0123ABC/B0456DEF/***",
        ),
        (
            f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}&sign=abc%3D",
            "https://oapi.dingtalk.com/robot/send?access_token=***&sign=***",
        ),
        (
            f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={TOKEN}",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***",
        ),
        (
            f"smtp://relay-user:{TOKEN}@smtp.example.com:587",
            "smtp://relay-user:***@smtp.example.com:587",
        ),
    ],
)
def test_redact_masks_each_providers_token_without_knowing_it(
    text: str, kept: str
) -> None:
    assert redact(text) == kept
