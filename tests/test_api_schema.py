"""The OpenAPI document is valid, complete, and served with its docs offline."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

pytest_plugins = ["tests.api_fixtures"]


def test_the_schema_validates_without_warnings(tmp_path, db):
    target = tmp_path / "schema.json"

    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(target),
    )

    schema = json.loads(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/notifications/bulk/" in schema["paths"]


@pytest.fixture
def schema(anonymous_client, db) -> dict:
    response = anonymous_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_every_operation_documents_its_errors_with_the_error_shape(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, path)
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    content = response["content"]["application/json"]
                    assert content["schema"] == {"$ref": "#/components/schemas/Error"}
                    assert content["examples"], (method, path, code)


def test_every_field_is_described(schema):
    undescribed = [
        f"{name}.{field}"
        for name, component in schema["components"]["schemas"].items()
        for field, spec in component.get("properties", {}).items()
        if not spec.get("description") and "$ref" not in spec and "allOf" not in spec
    ]

    assert undescribed == []


def test_every_parameter_is_described(schema):
    undescribed = [
        f"{method.upper()} {path} {parameter['name']}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    ]

    assert undescribed == []


def test_secrets_are_write_only_strings_and_read_back_masked(schema):
    components = schema["components"]["schemas"]
    written = components["ChannelRequest"]["properties"]["secrets"]
    read = components["Channel"]["properties"]["secrets"]

    assert written["additionalProperties"]["type"] == "string"
    assert set(read["additionalProperties"]["properties"]) == {"set", "last4"}


def test_the_docs_page_uses_the_installed_swagger_ui(anonymous_client, db):
    response = anonymous_client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in page
    assert "cdn." not in page
