"""POST /api/v1/channels/{slug}/test/ sends a test message now and reports back."""

from __future__ import annotations

from tests.api_support import client_for, grant, make_user
from tests.fakes.feishu import CODES, feishu_error

pytest_plugins = ["tests.api_fixtures"]

URL = "/api/v1/channels/ops-feishu/test/"


def test_reports_a_provider_that_accepted_the_message(
    operator_client, feishu_channel, fake_feishu
):
    response = operator_client.post(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["status_code"] == 200
    assert body["provider_code"] == "0"
    assert len(fake_feishu.requests) == 1


def test_reports_a_refusal_as_ok_false(operator_client, feishu_channel, fake_feishu):
    fake_feishu.fail_next(feishu_error(19024, CODES[19024]))

    response = operator_client.post(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    assert body["provider_code"] == "19024"
    assert "keywords" in body["message"]
    assert fake_feishu.webhook_url.encode() not in response.content


def test_an_unreachable_provider_is_reported_not_raised(
    operator_client, feishu_channel, fake_feishu
):
    fake_feishu.stop()

    response = operator_client.post(URL)

    assert response.status_code == 200
    assert response.json()["ok"] is False
    assert fake_feishu.token.encode() not in response.content


def test_a_viewer_may_not_send_a_test(viewer_client, feishu_channel, fake_feishu):
    response = viewer_client.post(URL)

    assert response.status_code == 403
    assert fake_feishu.requests == []


def test_the_test_channel_permission_is_enough(feishu_channel, fake_feishu):
    user = grant(make_user("tess", view_only=True), "test_channel")
    assert user.has_perm("notifications.test_channel")
    assert not user.has_perm("notifications.change_channel")
    client = client_for(user)

    response = client.post(URL)

    assert response.status_code == 200
