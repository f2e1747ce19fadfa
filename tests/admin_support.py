"""Fixtures for the admin tests: an operator and a viewer, logged in.

Test modules load it with `pytest_plugins = ("tests.admin_support",)`.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.admin_helpers import client_for, make_user


@pytest.fixture
def operator(db: None) -> User:
    return make_user("olga", "Operators")


@pytest.fixture
def viewer(db: None) -> User:
    return make_user("victor", "Viewers")


@pytest.fixture
def operator_client(operator: User) -> Client:
    return client_for(operator)


@pytest.fixture
def viewer_client(viewer: User) -> Client:
    return client_for(viewer)
