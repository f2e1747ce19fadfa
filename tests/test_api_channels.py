"""Channels through the API: validated by the adapter, secrets never shown."""

from __future__ import annotations

from rest_framework.test import APIClient

from notifications.models import Channel
from tests.api_support import error_of, send

pytest_plugins = ["tests.api_fixtures"]

URL = "/api/v1/channels/"
SIGNING_SECRET = "sig-secret-0123456789-wxyz"


def feishu_payload(fake_feishu, **extra) -> dict:
    return {
        "slug": "team-feishu",
        "name": "Team group",
        "kind": "feishu",
        "config": {"message_type": "post"},
        "secrets": {
            "webhook_url": fake_feishu.webhook_url,
            "signing_secret": SIGNING_SECRET,
        },
        **extra,
    }


def test_creates_a_channel_and_masks_its_secrets(operator_client, fake_feishu, db):
    response = operator_client.post(URL, feishu_payload(fake_feishu))

    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "feishu"
    assert body["config"] == {"message_type": "post"}
    assert body["secrets"] == {
        "webhook_url": {"set": True, "last4": fake_feishu.webhook_url[-4:]},
        "signing_secret": {"set": True, "last4": "wxyz"},
    }
    assert fake_feishu.webhook_url.encode() not in response.content
    assert SIGNING_SECRET.encode() not in response.content
    channel = Channel.objects.get(slug="team-feishu")
    assert channel.secrets["signing_secret"] == SIGNING_SECRET


def test_no_read_reveals_a_secret(operator_client, operator, fake_feishu, db):
    operator_client.post(URL, feishu_payload(fake_feishu))
    browser = APIClient()
    browser.force_login(operator)

    responses = [
        operator_client.get(URL),
        operator_client.get(URL + "team-feishu/"),
        operator_client.patch(URL + "team-feishu/", {"name": "Renamed"}),
        # The browsable API pre-fills its forms with the channel.
        browser.get(URL + "team-feishu/", HTTP_ACCEPT="text/html"),
        browser.get(URL, HTTP_ACCEPT="text/html"),
    ]

    for response in responses:
        assert response.status_code == 200
        assert fake_feishu.webhook_url.encode() not in response.content
        assert SIGNING_SECRET.encode() not in response.content


def test_a_secret_is_not_echoed_in_a_validation_error(operator_client, db):
    leaked = "https://example.com/secret-token-abcdef123456"
    response = operator_client.post(
        URL,
        {
            "slug": "bad",
            "name": "Bad",
            "kind": "feishu",
            "secrets": {"webhook_url": leaked},
        },
    )

    assert response.status_code == 400
    assert "secrets.webhook_url" in error_of(response)["fields"]
    assert leaked.encode() not in response.content


def test_adapter_errors_are_mapped_to_dotted_fields(operator_client, fake_feishu, db):
    payload = feishu_payload(fake_feishu, config={"message_type": "fax", "x": 1})

    response = operator_client.post(URL, payload)

    assert response.status_code == 400
    fields = error_of(response)["fields"]
    assert "config.x" in fields
    assert not Channel.objects.exists()


def test_a_missing_required_secret_is_named(operator_client, db):
    response = operator_client.post(
        URL, {"slug": "s", "name": "S", "kind": "feishu", "secrets": {}}
    )

    assert response.status_code == 400
    assert "secrets.webhook_url" in error_of(response)["fields"]


def test_an_unknown_kind_is_a_400(operator_client, db):
    response = operator_client.post(URL, {"slug": "s", "name": "S", "kind": "pigeon"})

    assert response.status_code == 400
    assert "kind" in error_of(response)["fields"]


def test_a_duplicate_slug_is_a_400(operator_client, feishu_channel, fake_feishu):
    response = operator_client.post(URL, feishu_payload(fake_feishu, slug="ops-feishu"))

    assert response.status_code == 400
    assert "slug" in error_of(response)["fields"]


def test_patch_keeps_secrets_left_out_and_clears_those_set_to_null(
    operator_client, fake_feishu, db
):
    operator_client.post(URL, feishu_payload(fake_feishu))

    kept = operator_client.patch(URL + "team-feishu/", {"enabled": False})
    cleared = operator_client.patch(
        URL + "team-feishu/", {"secrets": {"signing_secret": None}}
    )

    assert kept.status_code == 200
    assert kept.json()["secrets"]["signing_secret"]["set"] is True
    assert cleared.status_code == 200
    assert cleared.json()["secrets"]["signing_secret"] == {"set": False, "last4": ""}
    channel = Channel.objects.get(slug="team-feishu")
    assert channel.enabled is False
    assert channel.secrets == {"webhook_url": fake_feishu.webhook_url}


def test_patch_cannot_clear_a_required_secret(operator_client, feishu_channel):
    response = operator_client.patch(
        URL + "ops-feishu/", {"secrets": {"webhook_url": ""}}
    )

    assert response.status_code == 400
    assert "secrets.webhook_url" in error_of(response)["fields"]
    feishu_channel.refresh_from_db()
    assert feishu_channel.secrets["webhook_url"]


def test_patch_merges_config_and_validates_it(operator_client, feishu_channel):
    response = operator_client.patch(
        URL + "ops-feishu/", {"config": {"message_type": "telegram"}}
    )

    assert response.status_code == 400
    assert "config.message_type" in error_of(response)["fields"]


def test_the_kind_cannot_change(operator_client, feishu_channel):
    response = operator_client.patch(URL + "ops-feishu/", {"kind": "webhook"})

    assert response.status_code == 400
    assert "kind" in error_of(response)["fields"]


def test_rate_limits_are_validated(operator_client, feishu_channel):
    good = operator_client.patch(
        URL + "ops-feishu/", {"rate_limit": [{"count": 2, "seconds": 1}]}
    )
    bad = operator_client.patch(
        URL + "ops-feishu/", {"rate_limit": [{"count": 0, "seconds": 1}]}
    )

    assert good.status_code == 200
    assert good.json()["rate_limit"] == [{"count": 2, "seconds": 1}]
    incomplete = operator_client.patch(
        URL + "ops-feishu/", {"rate_limit": [{"count": 2}]}
    )

    assert bad.status_code == 400
    assert "rate_limit.0.count" in error_of(bad)["fields"]
    assert incomplete.status_code == 400
    assert "rate_limit.0.seconds" in error_of(incomplete)["fields"]


def test_deletes_an_unused_channel(operator_client, feishu_channel):
    response = operator_client.delete(URL + "ops-feishu/")

    assert response.status_code == 204
    assert not Channel.objects.exists()


def test_deleting_a_channel_with_notifications_is_a_409_suggesting_to_disable(
    operator_client, feishu_channel
):
    send(feishu_channel)

    response = operator_client.delete(URL + "ops-feishu/")

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "channel_in_use"
    assert "disable" in error["message"]
    assert Channel.objects.filter(slug="ops-feishu").exists()


def test_put_is_not_offered(operator_client, feishu_channel):
    response = operator_client.put(URL + "ops-feishu/", {"name": "x"})

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "PATCH" in response["Allow"]


def test_the_list_costs_the_same_queries_for_one_channel_or_many(
    operator_client, fake_feishu, db, django_assert_num_queries
):
    def make(count: int) -> None:
        for n in range(count):
            Channel.objects.create(
                slug=f"c{Channel.objects.count()}-{n}",
                name="C",
                kind="feishu",
                secrets={"webhook_url": fake_feishu.webhook_url},
            )

    make(1)
    operator_client.get(URL)  # records the token's last use
    with django_assert_num_queries(4):
        operator_client.get(URL)
    make(5)
    with django_assert_num_queries(4):
        response = operator_client.get(URL)

    assert len(response.json()) == 6
