"""Templates through the API: variants per kind, syntax checked on save."""

from __future__ import annotations

from notifications.models import Template
from tests.api_support import error_of

pytest_plugins = ["tests.api_fixtures"]

URL = "/api/v1/templates/"


def test_creates_a_template_with_variants(operator_client, db):
    response = operator_client.post(
        URL,
        {
            "slug": "deploy",
            "subject": "Deploy {{ n }}",
            "body": "Deploy {{ n }} done.",
            "variants": [{"kind": "feishu", "body": "🚀 {{ n }}"}],
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["variants"] == [
        {"kind": "feishu", "subject": "", "body": "🚀 {{ n }}", "html_body": ""}
    ]
    template = Template.objects.get(slug="deploy")
    assert template.variants.get().body == "🚀 {{ n }}"


def test_refuses_a_template_that_does_not_parse(operator_client, db):
    response = operator_client.post(
        URL, {"slug": "broken", "body": "{% if x %}never closed"}
    )

    assert response.status_code == 400
    assert "body" in error_of(response)["fields"]
    assert not Template.objects.exists()


def test_refuses_two_variants_for_one_kind(operator_client, db):
    variant = {"kind": "feishu", "body": "fine"}

    response = operator_client.post(
        URL, {"slug": "t", "body": "ok", "variants": [variant, variant]}
    )

    assert response.status_code == 400
    assert "variants" in error_of(response)["fields"]


def test_refuses_a_broken_variant_with_its_index(operator_client, db):
    response = operator_client.post(
        URL,
        {
            "slug": "t",
            "body": "ok",
            "variants": [{"kind": "feishu", "body": "{% if x %}open"}],
        },
    )

    assert response.status_code == 400
    assert "variants.0.body" in error_of(response)["fields"]


def test_refuses_a_variant_for_an_unknown_kind(operator_client, db):
    response = operator_client.post(
        URL, {"slug": "t", "body": "ok", "variants": [{"kind": "fax", "body": "x"}]}
    )

    assert response.status_code == 400
    assert "variants.0.kind" in error_of(response)["fields"]


def test_patch_replaces_the_variants_only_when_given(operator_client, alert_template):
    renamed = operator_client.patch(URL + "service-down/", {"name": "Renamed"})
    replaced = operator_client.patch(URL + "service-down/", {"variants": []})

    assert renamed.status_code == 200
    assert len(renamed.json()["variants"]) == 1
    assert replaced.status_code == 200
    assert replaced.json()["variants"] == []
    assert not alert_template.variants.exists()


def test_a_variant_in_a_patch_must_be_complete(operator_client, alert_template):
    response = operator_client.patch(
        URL + "service-down/", {"variants": [{"body": "no kind"}]}
    )

    assert response.status_code == 400
    assert "variants.0.kind" in error_of(response)["fields"]
    assert alert_template.variants.count() == 1


def test_deletes_a_template(operator_client, alert_template):
    response = operator_client.delete(URL + "service-down/")

    assert response.status_code == 204
    assert not Template.objects.exists()


def test_the_list_costs_the_same_queries_for_one_template_or_many(
    operator_client, alert_template, django_assert_num_queries
):
    operator_client.get(URL)  # records the token's last use
    # Token, user permissions, group permissions, templates, their variants.
    with django_assert_num_queries(5):
        operator_client.get(URL)
    for n in range(4):
        template = Template.objects.create(slug=f"t{n}", body="b")
        template.variants.create(kind="feishu", body="v")
    with django_assert_num_queries(5):
        response = operator_client.get(URL)

    assert len(response.json()) == 5
