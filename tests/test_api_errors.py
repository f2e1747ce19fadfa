"""Every API error, from DRF, Django or the domain, has one JSON shape."""

from __future__ import annotations

from django.test import RequestFactory

from notifications.api import errors
from tests.api_support import error_of

pytest_plugins = ["tests.api_fixtures"]


def test_an_unknown_api_path_is_a_json_404(operator_client, db):
    response = operator_client.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_pages_outside_the_api_keep_django_s_html_404(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_an_unsupported_method_is_a_json_405(operator_client, db):
    response = operator_client.delete("/api/v1/notifications/")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_a_server_error_under_the_api_is_json_without_details():
    request = RequestFactory().get("/api/v1/notifications/")

    response = errors.server_error(request)

    assert response.status_code == 500
    body = response.content.decode()
    assert '"code": "server_error"' in body
    assert "Traceback" not in body


def test_field_errors_flatten_to_dotted_names():
    flat = errors.field_errors(
        {
            "config.url": ["Bad URL."],
            "variants": {1: {"body": ["Bad."]}},
            "rate_limit": [{}, {"count": ["Too small."]}],
            "__all__": ["Whole object."],
        }
    )

    assert flat == {
        "config.url": ["Bad URL."],
        "variants.1.body": ["Bad."],
        "rate_limit.1.count": ["Too small."],
        "non_field_errors": ["Whole object."],
    }


def test_the_message_names_the_first_field_to_fix():
    message = errors.invalid_message({"send_at": ["It is in the past."]})

    assert message == "send_at: It is in the past."
