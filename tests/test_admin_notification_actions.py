"""Cancel, retry and resend: confirmed first, done by the services, reported."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from notifications.admin.common import short_id
from notifications.models import Channel, Notification, Status
from tests.admin_helpers import make_notification
from tests.fakes.twilio import FakeTwilio
from tests.unknown_outcomes import failed_with_unknown_outcome

pytest_plugins = ("tests.admin_support",)

LIST_URL = "/admin/notifications/notification/"


def act_url(notification: Notification, action: str) -> str:
    return f"{LIST_URL}{notification.pk}/act/{action}/"


def detail_url(notification: Notification) -> str:
    return f"{LIST_URL}{notification.pk}/change/"


def messages_of(response: object) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_detail_page_offers_only_what_the_state_machine_allows(
    operator_client: Client, feishu_channel: Channel
) -> None:
    queued = make_notification(feishu_channel)
    failed = make_notification(feishu_channel, status=Status.FAILED)
    sent = make_notification(feishu_channel, status=Status.SENT)

    queued_html = operator_client.get(detail_url(queued)).content.decode()
    failed_html = operator_client.get(detail_url(failed)).content.decode()
    sent_html = operator_client.get(detail_url(sent)).content.decode()

    assert act_url(queued, "cancel") in queued_html
    assert act_url(queued, "retry") not in queued_html
    assert act_url(failed, "retry") in failed_html
    assert act_url(failed, "cancel") not in failed_html
    assert act_url(sent, "resend") in sent_html
    assert act_url(sent, "cancel") not in sent_html
    # A copy of one still waiting would be a duplicate.
    assert act_url(queued, "resend") not in queued_html
    assert act_url(failed, "resend") in failed_html


def test_cancelling_asks_first_and_then_records_who_and_why(
    operator_client: Client, operator: object, feishu_channel: Channel
) -> None:
    notification = make_notification(feishu_channel)

    question = operator_client.get(act_url(notification, "cancel"))
    notification.refresh_from_db()
    assert "Cancel this notification?" in question.content.decode()
    assert notification.status == Status.QUEUED

    response = operator_client.post(
        act_url(notification, "cancel"), {"reason": "Sent by mistake"}
    )

    notification.refresh_from_db()
    change = notification.status_changes.last()
    assert response["Location"] == detail_url(notification)
    assert notification.status == Status.CANCELLED
    assert (change.by, change.actor, change.reason) == (
        operator,
        "admin",
        "Sent by mistake",
    )


def test_retry_now_requeues_a_retrying_notification(
    operator_client: Client, feishu_channel: Channel
) -> None:
    notification = make_notification(feishu_channel, status=Status.RETRYING)

    operator_client.post(act_url(notification, "retry"))

    notification.refresh_from_db()
    assert notification.status == Status.QUEUED
    assert notification.status_changes.last().transition == "requeue"


def test_retry_sends_a_failed_notification_back_to_the_queue(
    operator_client: Client, feishu_channel: Channel
) -> None:
    notification = make_notification(feishu_channel, status=Status.FAILED)

    response = operator_client.post(act_url(notification, "retry"))

    notification.refresh_from_db()
    assert notification.status == Status.QUEUED
    assert "Sent back to the queue." in messages_of(response)


def test_resend_creates_a_copy_and_opens_it(
    operator_client: Client, feishu_channel: Channel
) -> None:
    original = make_notification(feishu_channel, status=Status.SENT)

    response = operator_client.post(act_url(original, "resend"))

    copy = Notification.objects.get(resend_of=original)
    assert response["Location"] == detail_url(copy)
    assert copy.status == Status.QUEUED
    assert copy.body == original.body


def test_an_action_the_status_no_longer_allows_changes_nothing_and_says_why(
    operator_client: Client, feishu_channel: Channel
) -> None:
    notification = make_notification(feishu_channel, status=Status.SENT)

    response = operator_client.post(act_url(notification, "cancel"))

    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert messages_of(response) == ["Nothing was done: it is sent."]


def test_a_list_action_asks_first_then_reports_done_and_skipped_with_reasons(
    operator_client: Client, feishu_channel: Channel
) -> None:
    queued = make_notification(feishu_channel)
    pending = make_notification(feishu_channel, status=Status.PENDING)
    sent = make_notification(feishu_channel, status=Status.SENT)
    selection = {
        "action": "cancel_selected",
        "_selected_action": [queued.pk, pending.pk, sent.pk],
    }

    question = operator_client.post(LIST_URL, selection)
    assert "Cancel 3 notifications?" in question.content.decode()
    assert Notification.objects.filter(status=Status.CANCELLED).count() == 0

    response = operator_client.post(LIST_URL, {**selection, "post": "yes"})

    assert messages_of(response) == [
        "Cancelled 2 notifications.",
        f"Skipped 1 notification: {short_id(sent.uuid)} (it is sent).",
    ]
    assert set(
        Notification.objects.filter(status=Status.CANCELLED).values_list(
            "pk", flat=True
        )
    ) == {queued.pk, pending.pk}


def test_a_list_resend_makes_one_batch_of_copies(
    operator_client: Client, feishu_channel: Channel
) -> None:
    first = make_notification(feishu_channel, status=Status.SENT)
    second = make_notification(feishu_channel, status=Status.FAILED)

    response = operator_client.post(
        LIST_URL,
        {
            "action": "resend_selected",
            "_selected_action": [first.pk, second.pk],
            "post": "yes",
        },
    )

    copies = Notification.objects.filter(resend_of__isnull=False)
    assert messages_of(response) == ["Resent 2 notifications."]
    assert {c.resend_of_id for c in copies} == {first.pk, second.pk}
    assert len({c.batch_id for c in copies}) == 1


def test_a_list_resend_skips_those_not_finished_and_says_what_to_do_instead(
    operator_client: Client, feishu_channel: Channel
) -> None:
    queued = make_notification(feishu_channel)
    sent = make_notification(feishu_channel, status=Status.SENT)

    response = operator_client.post(
        LIST_URL,
        {
            "action": "resend_selected",
            "_selected_action": [queued.pk, sent.pk],
            "post": "yes",
        },
    )

    assert messages_of(response) == [
        "Resent 1 notification.",
        f"Skipped 1 notification: {short_id(queued.uuid)} (it is queued and not "
        "finished yet; cancel or retry it instead).",
    ]
    assert [
        c.resend_of_id for c in Notification.objects.filter(resend_of__isnull=False)
    ] == [sent.pk]


# -- sending again after an unknown outcome ----------------------------------


@pytest.fixture
def sms_failure(twilio_channel: Channel, fake_twilio: FakeTwilio) -> Notification:
    return failed_with_unknown_outcome(twilio_channel, fake_twilio)


def test_the_detail_page_warns_that_the_provider_may_have_delivered_it(
    operator_client: Client, sms_failure: Notification
) -> None:
    html = operator_client.get(detail_url(sms_failure)).content.decode()

    assert "the provider may have delivered it" in html
    assert act_url(sms_failure, "retry") in html


@pytest.mark.parametrize("action", ["retry", "resend"])
def test_the_confirmation_page_asks_to_confirm_checking_with_the_provider(
    operator_client: Client, sms_failure: Notification, action: str
) -> None:
    html = operator_client.get(act_url(sms_failure, action)).content.decode()

    assert "may already have delivered it" in html
    assert 'name="confirm_unknown"' in html
    assert "I checked with the provider; send it again." in html


def test_the_confirmation_page_of_an_ordinary_failure_has_no_such_box(
    operator_client: Client, feishu_channel: Channel
) -> None:
    notification = make_notification(feishu_channel, status=Status.FAILED)

    html = operator_client.get(act_url(notification, "retry")).content.decode()

    assert 'name="confirm_unknown"' not in html


@pytest.mark.parametrize("action", ["retry", "resend"])
def test_unconfirmed_it_does_nothing_and_goes_back_to_the_question(
    operator_client: Client, sms_failure: Notification, action: str
) -> None:
    response = operator_client.post(act_url(sms_failure, action))

    sms_failure.refresh_from_db()
    assert sms_failure.status == Status.FAILED
    assert not Notification.objects.filter(resend_of=sms_failure).exists()
    assert response["Location"] == act_url(sms_failure, action)
    [message] = messages_of(response)
    assert message.startswith("Nothing was done: The provider may already have")


def test_a_confirmed_retry_sends_it_back_to_the_queue(
    operator_client: Client, sms_failure: Notification
) -> None:
    response = operator_client.post(
        act_url(sms_failure, "retry"), {"confirm_unknown": "yes"}
    )

    sms_failure.refresh_from_db()
    assert sms_failure.status == Status.QUEUED
    assert "Sent back to the queue." in messages_of(response)


def test_a_confirmed_resend_creates_the_copy(
    operator_client: Client, sms_failure: Notification
) -> None:
    response = operator_client.post(
        act_url(sms_failure, "resend"), {"confirm_unknown": "yes"}
    )

    copy = Notification.objects.get(resend_of=sms_failure)
    assert response["Location"] == detail_url(copy)


def test_a_list_retry_asks_to_confirm_and_otherwise_skips_with_the_reason(
    operator_client: Client, sms_failure: Notification, feishu_channel: Channel
) -> None:
    plain = make_notification(feishu_channel, status=Status.FAILED)
    selection = {
        "action": "retry_selected",
        "_selected_action": [sms_failure.pk, plain.pk],
    }

    question = operator_client.post(LIST_URL, selection).content.decode()
    response = operator_client.post(LIST_URL, {**selection, "post": "yes"})

    assert "1 of them failed with an unknown outcome" in question
    assert 'name="confirm_unknown"' in question
    sms_failure.refresh_from_db()
    plain.refresh_from_db()
    assert (sms_failure.status, plain.status) == (Status.FAILED, Status.QUEUED)
    done, skipped = messages_of(response)
    assert done == "Sent 1 notification back to the queue."
    assert skipped.startswith(
        f"Skipped 1 notification: {short_id(sms_failure.uuid)} (The provider may"
    )


def test_a_confirmed_list_resend_includes_them(
    operator_client: Client, sms_failure: Notification
) -> None:
    response = operator_client.post(
        LIST_URL,
        {
            "action": "resend_selected",
            "_selected_action": [sms_failure.pk],
            "post": "yes",
            "confirm_unknown": "yes",
        },
    )

    assert messages_of(response) == ["Resent 1 notification."]
    assert Notification.objects.filter(resend_of=sms_failure).exists()
