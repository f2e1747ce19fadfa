"""`manage.py create_token` prints a token once and keeps only its hash."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from notifications.api.tokens import hash_key
from notifications.models import ApiToken
from tests.api_support import make_user


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("create_token", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_prints_a_working_token_and_stores_its_hash(db):
    make_user("ci-bot")

    raw = run("ci-bot", "--name", "ci")

    token = ApiToken.objects.get()
    assert token.key_hash == hash_key(raw)
    assert token.name == "ci"
    assert token.expires_at is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/ping").status_code == 200


def test_expires_in_sets_the_expiry(db):
    make_user("ci-bot")

    run("ci-bot", "--expires-in", "30")

    token = ApiToken.objects.get()
    assert 29 <= (token.expires_at - token.created_at).days <= 30


def test_revoke_by_prefix(db):
    make_user("ci-bot")
    raw = run("ci-bot")
    prefix = ApiToken.objects.get().prefix

    message = run("--revoke", prefix)

    assert "Revoked 1" in message
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/ping").status_code == 401


@pytest.mark.parametrize(
    "args",
    [("ghost",), (), ("ci-bot", "--expires-in", "0"), ("--revoke", "orion_nope")],
)
def test_refuses_bad_input(db, args):
    make_user("ci-bot")

    with pytest.raises(CommandError):
        run(*args)

    assert not ApiToken.objects.exists()
