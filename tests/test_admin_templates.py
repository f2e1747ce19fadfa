"""Templates preview against their sample context and refuse bad syntax on save."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from notifications.models import Template
from tests.admin_helpers import client_for, make_user

pytest_plugins = ("tests.admin_support",)

PREVIEW_URL = "/admin/notifications/template/preview/"
ADD_URL = "/admin/notifications/template/add/"


@pytest.fixture
def editor_client(db: None) -> Client:
    user = make_user("root", None)
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    return client_for(User.objects.get(pk=user.pk))


def template_data(**fields: str) -> dict[str, str]:
    data = {
        "slug": "disk",
        "name": "Disk",
        "subject": "Disk on {{ host }}",
        "body": "{{ host }} is at {{ percent }}%.",
        "html_body": "",
        "sample_context": '{"host": "db-1", "percent": 91}',
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
    }
    data.update(fields)
    return data


def test_the_preview_renders_the_unsaved_message_and_each_variant(
    editor_client: Client,
) -> None:
    data = template_data(
        **{
            "variants-TOTAL_FORMS": "1",
            "variants-0-kind": "feishu",
            "variants-0-subject": "",
            "variants-0-body": "[bot] {{ host }}",
            "variants-0-html_body": "",
        }
    )

    html = editor_client.post(PREVIEW_URL, data).content.decode()

    assert "Disk on db-1" in html
    assert "db-1 is at 91%." in html
    assert "[bot] db-1" in html
    assert Template.objects.count() == 0


def test_the_preview_names_the_variables_missing_from_the_sample_context(
    editor_client: Client,
) -> None:
    data = template_data(sample_context='{"host": "db-1"}')

    html = editor_client.post(PREVIEW_URL, data).content.decode()

    assert "Missing from the sample context:" in html
    assert "<code>percent</code>" in html


def test_the_change_page_previews_the_saved_template(
    editor_client: Client, db: None
) -> None:
    template = Template.objects.create(
        slug="disk", body="{{ host }} is full", sample_context={"host": "db-9"}
    )

    html = editor_client.get(
        f"/admin/notifications/template/{template.pk}/change/"
    ).content.decode()

    assert "db-9 is full" in html


def test_a_syntax_error_is_shown_on_save_and_nothing_is_saved(
    editor_client: Client,
) -> None:
    response = editor_client.post(ADD_URL, template_data(body="{% if host %}open"))

    assert response.status_code == 200
    assert "Template error" in str(response.context["adminform"].form.errors["body"])
    assert Template.objects.count() == 0


def test_a_syntax_error_in_a_variant_is_shown_on_save(editor_client: Client) -> None:
    data = template_data(
        **{
            "variants-TOTAL_FORMS": "1",
            "variants-0-kind": "feishu",
            "variants-0-subject": "{% if host %}open",
            "variants-0-body": "ok",
            "variants-0-html_body": "",
        }
    )

    response = editor_client.post(ADD_URL, data)

    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert "Template error" in str(errors[0]["subject"])
    assert Template.objects.count() == 0


def test_a_viewer_may_preview_but_not_save(viewer_client: Client) -> None:
    preview = viewer_client.post(PREVIEW_URL, template_data())
    saved = viewer_client.post(ADD_URL, template_data())

    assert "Disk on db-1" in preview.content.decode()
    assert saved.status_code == 403
    assert Template.objects.count() == 0
