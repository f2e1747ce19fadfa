"""Operators send through a form: fill in, preview, confirm; bad lines are named."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from adapters.feishu import FeishuAdapter
from notifications.models import Batch, Channel, Notification, Status, Template
from tests.builders import saved_channel
from tests.fakes.feishu import FakeFeishu

pytest_plugins = ("tests.admin_support",)

SEND_URL = "/admin/notifications/notification/send/"


def form_data(channels: list[Channel], **fields: str) -> dict[str, object]:
    data: dict[str, object] = {
        "channels": [str(c.pk) for c in channels],
        "priority": "normal",
        "subject": "Disk almost full",
        "body": "db-1 is at 91%.",
        "recipients": "",
        "_preview": "1",
    }
    data.update(fields)
    return data


def token_of(html: str) -> str:
    found = re.search(r'name="token" value="([0-9a-f]{32})"', html)
    assert found, "the preview carries a one-time token"
    return found.group(1)


def confirm(client: Client, data: dict[str, object], html: str) -> object:
    data = {**data, "token": token_of(html), "_confirm": "1"}
    data.pop("_preview", None)
    return client.post(SEND_URL, data)


@pytest.fixture
def second_channel(db: None, fake_feishu: FakeFeishu) -> Channel:
    return saved_channel(
        slug="dev-feishu",
        name="Dev group",
        kind="feishu",
        secrets={"webhook_url": fake_feishu.webhook_url},
    )


def test_the_preview_shows_the_rendered_message_and_creates_nothing(
    operator_client: Client, feishu_channel: Channel
) -> None:
    response = operator_client.post(SEND_URL, form_data([feishu_channel]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "db-1 is at 91%." in html
    assert "Confirm and send" in html
    assert Notification.objects.count() == 0


def test_confirming_the_preview_creates_one_queued_notification(
    operator_client: Client, operator: object, feishu_channel: Channel
) -> None:
    data = form_data([feishu_channel])
    preview = operator_client.post(SEND_URL, data)

    response = confirm(operator_client, data, preview.content.decode())

    notification = Notification.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/notification/{notification.pk}/change/")
    assert notification.status == Status.QUEUED
    assert notification.created_via == "admin"
    assert notification.created_by == operator
    assert notification.batch is None


def test_a_template_is_rendered_per_channel_kind_with_its_context(
    operator_client: Client, feishu_channel: Channel
) -> None:
    template = Template.objects.create(
        slug="disk", subject="Disk on {{ host }}", body="{{ host }}: {{ percent }}%"
    )
    template.variants.create(kind="feishu", body="[feishu] {{ host }} {{ percent }}%")
    data = form_data(
        [feishu_channel],
        subject="",
        body="",
        template=str(template.pk),
        context='{"host": "db-7", "percent": 97}',
    )

    html = operator_client.post(SEND_URL, data).content.decode()

    assert "[feishu] db-7 97%" in html


def test_missing_template_variables_are_reported_on_the_form(
    operator_client: Client, feishu_channel: Channel
) -> None:
    template = Template.objects.create(slug="disk", body="{{ host }}: {{ percent }}%")
    data = form_data(
        [feishu_channel],
        subject="",
        body="",
        template=str(template.pk),
        context='{"host": "db-7"}',
    )

    html = operator_client.post(SEND_URL, data).content.decode()

    assert "Missing template variables: percent." in html
    assert "Confirm and send" not in html


def test_several_recipients_make_one_batch(
    operator_client: Client,
    feishu_channel: Channel,
    second_channel: Channel,
) -> None:
    data = form_data(
        [feishu_channel, second_channel],
        recipients="ou_1\nou_2\n\nou_1\n",
        note="Maintenance",
    )
    preview = operator_client.post(SEND_URL, data)
    assert "This creates 4 notifications" in preview.content.decode()

    response = confirm(operator_client, data, preview.content.decode())

    batch = Batch.objects.get()
    assert response["Location"].endswith(f"/batch/{batch.pk}/change/")
    assert batch.note == "Maintenance"
    assert sorted(batch.notifications.values_list("channel__slug", "recipient")) == [
        ("dev-feishu", "ou_1"),
        ("dev-feishu", "ou_2"),
        ("ops-feishu", "ou_1"),
        ("ops-feishu", "ou_2"),
    ]


def test_bad_recipient_lines_are_named_with_their_line_number(
    operator_client: Client,
    feishu_channel: Channel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def only_open_ids(adapter: FeishuAdapter, recipient: str) -> str:
        if not recipient.startswith("ou_"):
            raise ValidationError({"recipient": ["Give a Feishu open id."]})
        return recipient

    # Feishu takes any text as a mention; a stricter check stands in for the
    # kinds (email, SMS) that refuse lines.
    monkeypatch.setattr(FeishuAdapter, "clean_recipient", only_open_ids)
    data = form_data([feishu_channel], recipients="ou_1\nalice\nou_3\nbob")

    html = operator_client.post(SEND_URL, data).content.decode()

    assert "Line 2 (“alice”) for ops-feishu: Give a Feishu open id." in html
    assert "Line 4 (“bob”) for ops-feishu: Give a Feishu open id." in html
    assert "Line 1 " not in html
    assert "Confirm and send" not in html
    assert Notification.objects.count() == 0


def test_a_recipient_longer_than_the_column_is_refused(
    operator_client: Client, feishu_channel: Channel
) -> None:
    data = form_data([feishu_channel], recipients="ou_1\n" + "x" * 321)

    html = operator_client.post(SEND_URL, data).content.decode()

    assert "Line 2" in html
    assert "Give at most 320 characters." in html


def test_confirming_the_same_preview_twice_sends_once(
    operator_client: Client, feishu_channel: Channel
) -> None:
    data = form_data([feishu_channel])
    preview = operator_client.post(SEND_URL, data).content.decode()

    confirm(operator_client, data, preview)
    again = confirm(operator_client, data, preview)

    assert Notification.objects.count() == 1
    assert again.status_code == 302
    followed = operator_client.get(again["Location"]).content.decode()
    assert "already confirmed" in followed


def test_a_time_in_the_past_is_refused_on_its_field(
    operator_client: Client, feishu_channel: Channel
) -> None:
    data = form_data([feishu_channel], send_at="2001-01-01T10:00")

    html = operator_client.post(SEND_URL, data).content.decode()

    assert "This time is in the past" in html
    assert Notification.objects.count() == 0


def test_a_template_and_a_body_together_are_refused_by_the_services(
    operator_client: Client, feishu_channel: Channel
) -> None:
    template = Template.objects.create(slug="disk", body="x")
    data = form_data([feishu_channel], template=str(template.pk))

    html = operator_client.post(SEND_URL, data).content.decode()

    assert "Give either a template with a context, or a subject and body." in html
    assert Notification.objects.count() == 0


def test_an_empty_body_without_a_template_is_refused_by_the_services(
    operator_client: Client, feishu_channel: Channel
) -> None:
    data = form_data([feishu_channel], subject="", body="")

    html = operator_client.post(SEND_URL, data).content.decode()

    assert "Give a body, or a template with its context." in html
    assert "Confirm and send" not in html
