"""Django's model permissions govern the API, as they govern the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from notifications.models import Notification, Status
from tests.api_support import client_for, error_of, grant, make_user, send

pytest_plugins = ["tests.api_fixtures"]


@pytest.fixture
def failed(feishu_channel) -> Notification:
    notification = send(feishu_channel)
    Notification.objects.filter(pk=notification.pk).update(status=Status.FAILED)
    return notification


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/notifications/",
        "/api/v1/channels/",
        "/api/v1/channels/ops-feishu/",
        "/api/v1/templates/",
        "/api/v1/stats/",
    ],
)
def test_a_viewer_may_read(viewer_client, feishu_channel, url):
    assert viewer_client.get(url).status_code == 200


@pytest.mark.parametrize("action", ["cancel", "retry", "resend"])
def test_a_viewer_may_not_act_on_a_notification(viewer_client, failed, action):
    response = viewer_client.post(f"/api/v1/notifications/{failed.uuid}/{action}/")

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    assert Notification.objects.count() == 1
    failed.refresh_from_db()
    assert failed.status == Status.FAILED


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("post", "/api/v1/notifications/", {"channel": "ops-feishu", "body": "x"}),
        (
            "post",
            "/api/v1/notifications/bulk/",
            {"notifications": [{"channel": "ops-feishu", "body": "x"}]},
        ),
        ("post", "/api/v1/templates/", {"slug": "t", "body": "b"}),
        ("patch", "/api/v1/channels/ops-feishu/", {"enabled": False}),
        ("delete", "/api/v1/channels/ops-feishu/", None),
    ],
)
def test_a_viewer_may_not_write(viewer_client, feishu_channel, method, url, data):
    response = getattr(viewer_client, method)(url, data)

    assert response.status_code == 403


def test_an_operator_may_retry_and_resend(operator_client, failed):
    # Resent first: once retried it is queued again, and not to be copied.
    resent = operator_client.post(f"/api/v1/notifications/{failed.uuid}/resend/")
    retried = operator_client.post(f"/api/v1/notifications/{failed.uuid}/retry/")

    assert resent.status_code == 201
    assert retried.status_code == 200


def test_resend_also_needs_the_add_permission(failed):
    user = grant(make_user("carl", view_only=True), "change_notification")
    client = client_for(user)

    resent = client.post(f"/api/v1/notifications/{failed.uuid}/resend/")
    retried = client.post(f"/api/v1/notifications/{failed.uuid}/retry/")

    assert resent.status_code == 403
    assert retried.status_code == 200


def test_a_user_without_permissions_may_not_even_read(feishu_channel):
    user = make_user("nobody")
    user.user_permissions.clear()

    response = client_for(user).get("/api/v1/notifications/")

    assert response.status_code == 403


def test_permissions_from_a_group_count(feishu_channel):
    group = Group.objects.create(name="Readers")
    group.permissions.set(Permission.objects.filter(codename="view_notification"))
    user = make_user("gina")
    user.user_permissions.clear()
    user.groups.add(group)

    response = client_for(user).get("/api/v1/notifications/")

    assert response.status_code == 200
