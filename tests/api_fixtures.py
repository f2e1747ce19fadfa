"""Fixtures of the API tests: an operator, a viewer, their clients, a template.

Each tests/test_api_*.py loads them with `pytest_plugins`, so the shared
conftest.py stays as it is.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from notifications.models import Template
from tests.api_support import client_for, make_user


@pytest.fixture
def operator(db: None) -> User:
    return make_user("olivia")


@pytest.fixture
def viewer(db: None) -> User:
    return make_user("victor", view_only=True)


@pytest.fixture
def operator_client(operator: User) -> APIClient:
    return client_for(operator)


@pytest.fixture
def viewer_client(viewer: User) -> APIClient:
    return client_for(viewer)


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def alert_template(db: None) -> Template:
    template = Template.objects.create(
        slug="service-down",
        name="Service down",
        subject="{{ service }} is down",
        body="{{ service }} failed its check at {{ at }}.",
    )
    template.variants.create(
        kind="feishu",
        subject="[P1] {{ service }}",
        body="{{ service }} down ({{ at }})",
    )
    return template
