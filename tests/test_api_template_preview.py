"""POST /api/v1/templates/{slug}/preview/ renders, or names what is missing."""

from __future__ import annotations

from notifications.models import Template
from tests.api_support import error_of

pytest_plugins = ["tests.api_fixtures"]

URL = "/api/v1/templates/service-down/preview/"


def test_renders_the_default_text(viewer_client, alert_template):
    response = viewer_client.post(
        URL, {"context": {"service": "billing", "at": "12:04"}}
    )

    assert response.status_code == 200
    assert response.json() == {
        "subject": "billing is down",
        "body": "billing failed its check at 12:04.",
        "html_body": "",
    }


def test_renders_the_variant_of_a_kind(viewer_client, alert_template):
    response = viewer_client.post(
        URL, {"context": {"service": "billing", "at": "12:04"}, "kind": "feishu"}
    )

    assert response.status_code == 200
    assert response.json()["subject"] == "[P1] billing"


def test_names_the_missing_variables(viewer_client, alert_template):
    response = viewer_client.post(URL, {"context": {"service": "billing"}})

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "missing_variables"
    assert error["missing"] == ["at"]


def test_a_template_that_fails_while_rendering_is_a_400(viewer_client, db):
    Template.objects.create(slug="t", body="{{ n|divisibleby:0 }}")

    response = viewer_client.post("/api/v1/templates/t/preview/", {"context": {"n": 4}})

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"


def test_an_unknown_template_is_a_404(viewer_client, db):
    response = viewer_client.post("/api/v1/templates/nope/preview/", {})

    assert response.status_code == 404
