"""A notification's page shows its message, every attempt and every transition."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from notifications.models import Channel, DeliveryAttempt, Notification, Status
from tests.admin_helpers import make_notification

pytest_plugins = ("tests.admin_support",)

# Session, user, the notification with its channel and links, the user's own
# and group permissions, the attempts, the transitions with their users, and
# the resends.
DETAIL_QUERIES = 8


def badge(status: str) -> str:
    return f'<span class="orion-badge orion-status-{status}">{status}</span>'


def detail_url(notification: Notification) -> str:
    return f"/admin/notifications/notification/{notification.pk}/change/"


def add_attempt(notification: Notification, number: int, **fields: object) -> None:
    DeliveryAttempt.objects.create(
        notification=notification,
        number=number,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        **fields,
    )


def retrying(channel: Channel) -> Notification:
    notification = make_notification(
        channel, subject="Disk almost full", body="db-1 is at 91%."
    )
    notification.claim(actor="worker a")
    notification.save()
    notification.schedule_retry(
        timezone.now() + timezone.timedelta(minutes=5),
        actor="worker a",
        reason="Feishu answered HTTP 503.",
    )
    notification.save()
    add_attempt(
        notification,
        1,
        outcome="transient",
        status_code=503,
        provider_code="",
        duration_ms=812,
        error="Feishu answered HTTP 503.",
        reply_excerpt='{"msg": "upstream busy", "token": "***"}',
    )
    return notification


def test_it_shows_the_message_attempts_and_transitions(
    operator_client: Client, feishu_channel: Channel
) -> None:
    notification = retrying(feishu_channel)

    html = operator_client.get(detail_url(notification)).content.decode()

    assert "Disk almost full" in html
    assert "db-1 is at 91%." in html
    assert "812" in html and "503" in html
    assert "upstream busy" in html
    assert "worker a" in html
    assert "Feishu answered HTTP 503." in html
    assert badge("queued") + " → " + badge("sending") in html
    assert badge("sending") + " → " + badge("retrying") in html
    assert "Next attempt: " in html


def test_every_field_is_read_only(
    operator_client: Client, feishu_channel: Channel
) -> None:
    notification = make_notification(feishu_channel)

    html = operator_client.get(detail_url(notification)).content.decode()
    posted = operator_client.post(detail_url(notification), {"recipient": "x"})

    assert 'name="recipient"' not in html
    assert 'name="_save"' not in html
    assert posted.status_code == 403
    notification.refresh_from_db()
    assert notification.recipient == ""


def test_the_detail_page_costs_the_same_queries_for_a_long_history(
    operator_client: Client,
    feishu_channel: Channel,
    django_assert_num_queries: object,
) -> None:
    short = make_notification(feishu_channel)
    long = retrying(feishu_channel)
    for number in range(2, 12):
        add_attempt(long, number, outcome="transient", status_code=503)
    for _ in range(5):
        long.requeue(actor="dispatcher")
        long.claim(actor="worker b")
        long.schedule_retry(timezone.now(), actor="worker b", reason="again")
        long.save()
    operator_client.get(detail_url(short))

    with django_assert_num_queries(DETAIL_QUERIES):
        operator_client.get(detail_url(short))
    with django_assert_num_queries(DETAIL_QUERIES):
        html = operator_client.get(detail_url(long)).content.decode()
    assert html.count("orion-outcome-transient") == 11
    assert Notification.objects.get(pk=long.pk).status == Status.RETRYING
