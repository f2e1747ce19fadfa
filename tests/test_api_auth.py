"""Bearer tokens: hashed at rest, refused when revoked or expired; sessions work too."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.api.tokens import hash_key, issue_token, revoke_tokens
from notifications.models import ApiToken
from tests.api_support import error_of

pytest_plugins = ["tests.api_fixtures"]

PROTECTED = [
    ("get", "/api/v1/ping"),
    ("get", "/api/v1/notifications/"),
    ("post", "/api/v1/notifications/"),
    ("post", "/api/v1/notifications/bulk/"),
    ("get", "/api/v1/notifications/00000000-0000-0000-0000-000000000000/"),
    ("post", "/api/v1/notifications/00000000-0000-0000-0000-000000000000/cancel/"),
    ("get", "/api/v1/channels/"),
    ("post", "/api/v1/channels/x/test/"),
    ("get", "/api/v1/templates/"),
    ("post", "/api/v1/templates/x/preview/"),
    ("get", "/api/v1/stats/"),
]


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_anonymous_requests_get_a_json_401_with_a_challenge(
    anonymous_client, db, method, url
):
    response = getattr(anonymous_client, method)(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "url", ["/healthz", "/api/schema/", "/api/docs/"], ids=["health", "schema", "docs"]
)
def test_health_and_documentation_answer_anonymously(anonymous_client, db, url):
    response = anonymous_client.get(url)

    assert response.status_code == 200


def test_the_token_is_stored_only_as_a_hash(operator):
    token, raw = issue_token(operator, name="ci")

    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hash_key(raw) != raw
    assert raw.startswith(stored.prefix)
    assert raw not in str(ApiToken.objects.values().get(pk=token.pk))


def test_an_unknown_token_is_a_401(db):
    response = bearer("orion_not-a-real-token").get("/api/v1/ping")

    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_a_revoked_token_is_a_401(operator):
    token, raw = issue_token(operator)
    revoke_tokens(token.prefix)

    response = bearer(raw).get("/api/v1/ping")

    assert response.status_code == 401
    assert "revoked" in error_of(response)["message"]


def test_an_expired_token_is_a_401(operator):
    token, raw = issue_token(operator, expires_in=datetime.timedelta(days=1))
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    response = bearer(raw).get("/api/v1/ping")

    assert response.status_code == 401
    assert "expired" in error_of(response)["message"]


def test_the_token_of_an_inactive_user_is_a_401(operator):
    _, raw = issue_token(operator)
    operator.is_active = False
    operator.save()

    assert bearer(raw).get("/api/v1/ping").status_code == 401


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer a b", "Bearer \u00e9t\u00e9", "Bearer " + "x" * 300]
)
def test_a_malformed_authorization_header_is_a_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/ping")

    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_use_is_recorded_at_most_once_a_minute(operator):
    token, raw = issue_token(operator)
    client = bearer(raw)

    client.get("/api/v1/ping")
    first_use = ApiToken.objects.get(pk=token.pk).last_used_at
    client.get("/api/v1/ping")

    assert first_use is not None
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first_use


def test_a_session_write_without_a_csrf_token_says_so(operator, feishu_channel):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(operator)

    response = client.patch("/api/v1/channels/ops-feishu/", {"enabled": False})

    assert response.status_code == 403
    assert "CSRF" in error_of(response)["message"]


def test_a_session_login_works_for_the_browsable_api(operator, feishu_channel):
    client = APIClient()
    client.force_login(operator)

    response = client.get("/api/v1/channels/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b"ops-feishu" in response.content
