"""Helpers for the admin tests: users in Orion's groups, notifications to show."""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group, User
from django.test import Client

from notifications import services
from notifications.models import Channel, Notification


def ensure_groups() -> None:
    """Create the groups as migration 0002 does; a transactional test's flush
    removes rows that migrations made."""
    migration = importlib.import_module("notifications.migrations.0002_operator_groups")
    migration.create_groups(apps, None)


def make_user(username: str, group: str | None) -> User:
    user = User.objects.create_user(username, password="pw-" + username, is_staff=True)
    if group:
        ensure_groups()
        user.groups.add(Group.objects.get(name=group))
    return user


def client_for(user: User, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def make_notification(channel: Channel, **fields: Any) -> Notification:
    """A notification created as the API would, then set to the given fields.

    Status and the like are written with `update()`: tests need states that
    only a worker reaches, without running one.
    """
    spec = services.NotificationSpec(
        channel=channel,
        recipient=fields.pop("recipient", ""),
        subject=fields.pop("subject", "Disk almost full"),
        body=fields.pop("body", "db-1 is at 91%."),
    )
    notification = services.create_notification(spec, via="test")
    if fields:
        Notification.objects.filter(pk=notification.pk).update(**fields)
        notification.refresh_from_db()
    return notification
