"""Message templates, with a preview rendered against the sample context."""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

import adapters
from notifications.models import Template, TemplateVariant
from notifications.templating import MissingVariables, check_syntax, render_parts


def render_previews(
    default: Any, variants: list[Any], context: Any
) -> list[dict[str, Any]]:
    """Render the default message and each variant; report what went wrong.

    Each entry has the label, the rendered parts, and either the missing
    variable names or a template error, so the operator sees all at once.
    """
    labels = dict(adapters.kinds())
    entries = [(gettext("Default (every other kind)"), default)]
    entries += [(labels.get(v.kind, v.kind), v) for v in variants]
    previews = []
    for label, source in entries:
        entry: dict[str, Any] = {"label": label, "missing": [], "errors": []}
        if not isinstance(context, Mapping):
            entry["errors"] = [gettext("The sample context must be a JSON object.")]
        else:
            try:
                rendered = render_parts(
                    source.subject or "",
                    source.body or "",
                    source.html_body or "",
                    context,
                )
                entry.update(
                    subject=rendered.subject,
                    body=rendered.body,
                    html_body=rendered.html_body,
                )
            except MissingVariables as exc:
                entry["missing"] = exc.names
            except ValidationError as exc:
                entry["errors"] = exc.messages
        previews.append(entry)
    return previews


def previews_html(previews: list[dict[str, Any]]) -> SafeString:
    return mark_safe(
        render_to_string(
            "admin/notifications/template/preview.html", {"previews": previews}
        )
    )


class TemplateVariantForm(forms.ModelForm):
    class Meta:
        model = TemplateVariant
        fields = ("kind", "subject", "body", "html_body")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"] = forms.ChoiceField(
            label=capfirst(_("channel kind")),
            choices=[("", "---------"), *adapters.kinds()],
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Template.clean() checks the default message; a variant is checked
        # the same way, so a syntax error is reported when saving either.
        try:
            check_syntax(
                types.SimpleNamespace(
                    **{
                        name: data.get(name, "")
                        for name in ("subject", "body", "html_body")
                    }
                )
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field, messages)
        return data


class TemplateVariantInline(admin.StackedInline):
    model = TemplateVariant
    form = TemplateVariantForm
    extra = 0
    verbose_name = _("variant for one channel kind")
    verbose_name_plural = _("variants per channel kind")


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "subject", "variant_kinds", "updated_at")
    search_fields = ("slug", "name")
    inlines = (TemplateVariantInline,)
    readonly_fields = ("preview",)
    change_form_template = "admin/notifications/template/change_form.html"
    fieldsets = (
        (None, {"fields": ("slug", "name")}),
        (
            _("Message"),
            {
                "fields": ("subject", "body", "html_body"),
                "description": _(
                    "Django template language: {{ variable }}, {% if %}. A "
                    "variable missing from the context stops the send, so write "
                    "optional parts inside {% if variable %}."
                ),
            },
        ),
        (
            _("Preview"),
            {
                "fields": ("sample_context", "preview"),
                "description": _(
                    "The preview renders the message with the sample context, "
                    "and updates as you type."
                ),
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("variants")

    @admin.display(description=_("variants"))
    def variant_kinds(self, template: Template) -> str:
        return ", ".join(sorted(v.kind for v in template.variants.all())) or "-"

    @admin.display(description=_("preview"))
    def preview(self, template: Template) -> SafeString:
        if not template.pk:
            return mark_safe('<div id="orion-template-preview"></div>')
        previews = render_previews(
            template, list(template.variants.all()), template.sample_context
        )
        return mark_safe(
            f'<div id="orion-template-preview">{previews_html(previews)}</div>'
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "preview/",
                self.admin_site.admin_view(require_POST(self.preview_view)),
                name="notifications_template_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """Render the unsaved form's message; nothing is stored."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        data = request.POST
        try:
            context = json.loads(data.get("sample_context") or "{}")
        except ValueError:
            context = None
        default = _parts(data, "")
        variants = []
        total = _int(data.get("variants-TOTAL_FORMS"))
        for index in range(min(total, 50)):
            prefix = f"variants-{index}-"
            if data.get(prefix + "DELETE") or not data.get(prefix + "kind"):
                continue
            variant = _parts(data, prefix)
            variant.kind = data[prefix + "kind"]
            variants.append(variant)
        if context is None:
            previews = [
                {
                    "label": gettext("Sample context"),
                    "missing": [],
                    "errors": [gettext("The sample context is not valid JSON.")],
                }
            ]
        else:
            previews = render_previews(default, variants, context)
        return HttpResponse(previews_html(previews))


def _parts(data: Any, prefix: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        subject=data.get(prefix + "subject", ""),
        body=data.get(prefix + "body", ""),
        html_body=data.get(prefix + "html_body", ""),
    )


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0
