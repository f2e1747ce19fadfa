"""Strict template rendering: a missing variable is an error, never a blank."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from notifications.models import (
    Channel,
    Notification,
    StatusChange,
    Template,
    TemplateVariant,
)
from notifications.services import NotificationSpec, create_notification
from notifications.templating import (
    MissingVariables,
    render_parts,
    render_string,
    render_template,
)
from tests.builders import idle_channel


def test_a_missing_variable_is_an_error() -> None:
    with pytest.raises(MissingVariables) as caught:
        render_string("Disk {{ disk }} is {{ percent }}% full", {"disk": "sda"})

    assert caught.value.names == ["percent"]
    assert "percent" in caught.value.message_dict["context"][0]


@pytest.mark.parametrize(
    "source",
    ["{{ host|upper }}", "{{ host.name }}", "{{ host }} and {{ host }}"],
)
def test_a_missing_variable_is_caught_with_filters_and_lookups(source: str) -> None:
    with pytest.raises(MissingVariables):
        render_string(source, {})


def test_a_missing_attribute_of_a_present_variable_is_an_error() -> None:
    with pytest.raises(MissingVariables) as caught:
        render_string("{{ host.name }}", {"host": {"ip": "10.0.0.1"}})

    assert caught.value.names == ["host.name"]


def test_every_missing_variable_is_listed_across_subject_body_and_html() -> None:
    with pytest.raises(MissingVariables) as caught:
        render_parts(
            "[{{ severity }}] {{ service }}",
            "{{ service }} on {{ host }}: {{ message }}",
            "<p>{{ message }} — {{ runbook }}</p>",
            {"service": "billing"},
        )

    assert caught.value.names == ["severity", "host", "message", "runbook"]
    text = caught.value.message_dict["context"][0]
    for name in ("severity", "host", "message", "runbook"):
        assert name in text


def test_an_optional_part_is_written_with_if() -> None:
    text = render_string("Down{% if note %}: {{ note }}{% endif %}.", {})

    assert text == "Down."


def test_a_complete_context_renders_every_part() -> None:
    rendered = render_parts(
        "  [{{ severity }}] {{ service }}  ",
        "{{ service }} is down",
        "<b>{{ service }}</b>",
        {"severity": "P1", "service": "billing"},
    )

    assert rendered.subject == "[P1] billing"
    assert rendered.body == "billing is down"
    assert rendered.html_body == "<b>billing</b>"


def test_only_the_html_body_is_autoescaped() -> None:
    context = {"title": "<script>alert(1)</script> & co"}

    rendered = render_parts(
        "{{ title }}", "{{ title }}", "<h1>{{ title }}</h1>", context
    )

    assert rendered.subject == "<script>alert(1)</script> & co"
    assert rendered.body == "<script>alert(1)</script> & co"
    assert rendered.html_body == (
        "<h1>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</h1>"
    )


@pytest.fixture
def template(db: None) -> Template:
    template = Template.objects.create(
        slug="disk-full",
        subject="Disk full on {{ host }}",
        body="{{ host }} is at {{ percent }}%.",
    )
    TemplateVariant.objects.create(
        template=template,
        kind="feishu",
        subject="[Feishu] {{ host }}",
        body="**{{ host }}** {{ percent }}%",
    )
    return Template.objects.prefetch_related("variants").get(pk=template.pk)


def test_the_variant_for_the_channel_kind_is_used(template: Template) -> None:
    context = {"host": "db-1", "percent": 97}

    feishu = render_template(template, "feishu", context)
    email = render_template(template, "email", context)

    assert (feishu.subject, feishu.body) == ("[Feishu] db-1", "**db-1** 97%")
    assert (email.subject, email.body) == ("Disk full on db-1", "db-1 is at 97%.")


def test_a_syntax_error_is_reported_on_its_field(db: None) -> None:
    template = Template(
        slug="broken",
        subject="Fine {{ host }}",
        body="{% if host %}unclosed",
        html_body="<p>{{ host|no_such_filter }}</p>",
    )

    with pytest.raises(ValidationError) as caught:
        template.full_clean()

    errors = caught.value.message_dict
    assert "subject" not in errors
    assert errors["body"][0].startswith("Template error")
    assert "no_such_filter" in errors["html_body"][0]


def test_a_notification_from_a_template_with_a_missing_variable_is_not_created(
    template: Template,
) -> None:
    channel: Channel = idle_channel()

    with pytest.raises(ValidationError) as caught:
        create_notification(
            NotificationSpec(channel=channel, template="disk-full", context={})
        )

    assert set(caught.value.message_dict) == {"context"}
    assert "host" in caught.value.message_dict["context"][0]
    assert "percent" in caught.value.message_dict["context"][0]
    assert not Notification.objects.exists()
    assert not StatusChange.objects.exists()


def test_a_notification_from_a_template_stores_the_rendered_variant(
    template: Template,
) -> None:
    channel = idle_channel()

    notification = create_notification(
        NotificationSpec(
            channel=channel,
            template="disk-full",
            context={"host": "db-1", "percent": 97},
        )
    )

    notification.refresh_from_db()
    assert notification.subject == "[Feishu] db-1"
    assert notification.body == "**db-1** 97%"
    assert notification.template == template
