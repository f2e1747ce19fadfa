"""The admin's and the API docs' static files are served with DEBUG off."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings


@override_settings(DEBUG=False)
@pytest.mark.parametrize(
    "path",
    [
        "/static/admin/css/base.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
    ],
)
def test_static_files_are_served_without_debug(path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 200
    assert b"".join(response.streaming_content)
