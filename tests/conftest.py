"""Shared fixtures: fake providers on loopback and channels pointing at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifications.models import Channel
from tests.fakes.feishu import FakeFeishu


@pytest.fixture
def fake_feishu() -> Iterator[FakeFeishu]:
    with FakeFeishu() as fake:
        yield fake


@pytest.fixture
def feishu_channel(db: None, fake_feishu: FakeFeishu) -> Channel:
    channel = Channel(
        slug="ops-feishu",
        name="Ops Feishu group",
        kind="feishu",
        secrets={"webhook_url": fake_feishu.webhook_url},
    )
    channel.full_clean()
    channel.save()
    return channel
