"""Helpers of the API tests: users with permissions, token clients, errors."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from notifications.api.tokens import issue_token
from notifications.models import Channel, Notification
from notifications.services import NotificationSpec, create_notification


def make_user(username: str, *, view_only: bool = False, **extra: Any) -> User:
    """A user with every notifications permission, or only the view ones."""
    user = User.objects.create_user(username, password="pw", **extra)
    perms = Permission.objects.filter(content_type__app_label="notifications")
    if view_only:
        perms = perms.filter(codename__startswith="view_")
    user.user_permissions.set(perms)
    return user


def client_for(user: User | None) -> APIClient:
    """An API client sending a fresh bearer token of `user` (anonymous if None)."""
    client = APIClient()
    if user is not None:
        _, raw = issue_token(user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def grant(user: User, *codenames: str) -> User:
    """Give `user` these notifications permissions; return it afresh (no cache)."""
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="notifications", codename__in=codenames
        )
    )
    return User.objects.get(pk=user.pk)


def send(channel: Channel, **fields: Any) -> Notification:
    """A notification created the way the API creates one."""
    if "template" not in fields:
        fields.setdefault("body", "Disk almost full.")
    return create_notification(NotificationSpec(channel=channel, **fields), via="api")


def error_of(response: Any) -> dict[str, Any]:
    """The `error` object of an error answer, checking the shape on the way."""
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return body["error"]
