"""A batch is followed as a whole: how many sent, failed and waiting."""

from __future__ import annotations

from django.test import Client

from notifications import services
from notifications.models import Batch, Channel, Notification, Status

pytest_plugins = ("tests.admin_support",)

# Session, user, the user's own and group permissions, the capped count,
# the page's batches with their creators, and every listed batch's counts.
LIST_QUERIES = 7


def make_batch(channel: Channel, size: int) -> Batch:
    batch, created = services.create_batch(
        [
            services.NotificationSpec(channel=channel, body=f"n{index}")
            for index in range(size)
        ],
        note=f"batch of {size}",
    )
    return batch


def test_the_batch_page_shows_progress_by_status(
    operator_client: Client, feishu_channel: Channel
) -> None:
    batch = make_batch(feishu_channel, 5)
    ids = list(batch.notifications.values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids[:2]).update(status=Status.SENT)
    Notification.objects.filter(pk=ids[2]).update(status=Status.FAILED)

    html = operator_client.get(
        f"/admin/notifications/batch/{batch.pk}/change/"
    ).content.decode()

    assert "2 sent, 1 failed, 2 waiting of 5" in html
    assert f"?batch={batch.pk}&amp;status__exact=failed" in html


def test_the_batch_list_costs_the_same_queries_for_few_and_many_batches(
    operator_client: Client,
    feishu_channel: Channel,
    django_assert_num_queries: object,
) -> None:
    make_batch(feishu_channel, 2)
    operator_client.get("/admin/notifications/batch/")
    with django_assert_num_queries(LIST_QUERIES):
        operator_client.get("/admin/notifications/batch/")

    for size in range(1, 12):
        make_batch(feishu_channel, size)
    with django_assert_num_queries(LIST_QUERIES):
        html = operator_client.get("/admin/notifications/batch/").content.decode()
    assert "0 sent, 0 failed, 11 waiting of 11" in html
