"""Small builders shared by the foundation's tests: channels and notifications."""

from __future__ import annotations

from typing import Any

from notifications.models import Channel, Notification
from notifications.services import NotificationSpec, create_notification
from tests.fakes.feishu import FakeFeishu

# Far above anything a test sends, so the provider's default limits (5/s)
# never defer a test that sends several times within a second.
UNLIMITED = [{"count": 10_000, "seconds": 1}]


def saved_channel(**fields: Any) -> Channel:
    """A channel validated the way the admin and API do, then saved."""
    channel = Channel(**fields)
    channel.full_clean()
    channel.save()
    return channel


def feishu_channel_for(
    fake: FakeFeishu,
    *,
    slug: str = "feishu-test",
    kind: str = "feishu",
    secrets: dict[str, str] | None = None,
    config: dict[str, Any] | None = None,
    rate_limit: list[dict[str, int]] | None = None,
) -> Channel:
    """A saved, validated channel that sends to `fake`."""
    return saved_channel(
        slug=slug,
        name=slug,
        kind=kind,
        config=config or {},
        secrets={"webhook_url": fake.webhook_url, **(secrets or {})},
        rate_limit=rate_limit if rate_limit is not None else UNLIMITED,
    )


def notify(
    channel: Channel, body: str = "Disk almost full on db-1", **spec: Any
) -> Notification:
    """Create a notification the way the API and admin do."""
    return create_notification(NotificationSpec(channel=channel, body=body, **spec))


def in_state(channel: Channel, status: str, **fields: Any) -> Notification:
    """A saved notification put straight into `status`, bypassing the machine."""
    notification = Notification(
        channel=channel, body="Backup finished", status=status, **fields
    )
    notification.save()
    return notification


def idle_channel(slug: str = "idle-feishu") -> Channel:
    """A saved Feishu channel for tests that never send (no server behind it)."""
    return saved_channel(
        slug=slug,
        name=slug,
        kind="feishu",
        secrets={"webhook_url": "http://127.0.0.1:9/open-apis/bot/v2/hook/unused"},
    )
