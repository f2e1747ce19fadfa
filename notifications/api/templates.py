"""Templates: write them once per message, preview them with a context."""

from __future__ import annotations

import copy
import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

import adapters
from notifications.api import examples
from notifications.api.errors import django_field_errors
from notifications.api.fields import (
    JSONObjectField,
    StrictCharField,
    StrictSlugField,
    WholeItemSerializer,
)
from notifications.api.schema import slug_parameter
from notifications.models import Template, TemplateVariant
from notifications.templating import check_syntax, render_template

logger = logging.getLogger(__name__)

SLUG = slug_parameter("template")

MAX_SOURCE_CHARS = 100_000


def _kind_field(**kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=[], **kwargs)


def _set_kind_choices(fields: dict[str, serializers.Field]) -> None:
    # Kinds register as their adapter modules load: read them per use.
    fields["kind"].choices = adapters.kinds()


class VariantSerializer(WholeItemSerializer):
    kind = _kind_field(help_text="The channel kind this variant is for.")
    subject = StrictCharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    body = StrictCharField(max_length=MAX_SOURCE_CHARS, trim_whitespace=False)
    html_body = StrictCharField(
        max_length=MAX_SOURCE_CHARS,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        _set_kind_choices(fields)
        fields["subject"].help_text = "The subject for that kind."
        fields["body"].help_text = "The body for that kind."
        fields["html_body"].help_text = "The HTML body for that kind (email)."
        return fields


class TemplateSerializer(serializers.Serializer):
    """A template in Django's template language; variables must all be given."""

    slug = StrictSlugField(max_length=64, help_text="Its unique name.")
    name = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="A name for people.",
    )
    subject = StrictCharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text='The subject, e.g. "{{ service }} is down".',
    )
    body = StrictCharField(
        max_length=MAX_SOURCE_CHARS,
        trim_whitespace=False,
        help_text='The body, e.g. "{{ service }} failed its check at {{ at }}."',
    )
    html_body = StrictCharField(
        max_length=MAX_SOURCE_CHARS,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="An HTML body for email; variables are escaped.",
    )
    sample_context = JSONObjectField(
        required=False,
        default=dict,
        help_text="A context to preview it with.",
    )
    variants = VariantSerializer(
        many=True,
        required=False,
        help_text=(
            "Subject and body per channel kind, overriding the defaults above; "
            "at most one per kind. On PATCH, a list given replaces all variants."
        ),
    )
    created_at = serializers.DateTimeField(read_only=True, help_text="Created at.")
    updated_at = serializers.DateTimeField(read_only=True, help_text="Changed at.")

    def validate_variants(self, variants: list[dict[str, Any]]) -> list[dict]:
        kinds = [variant["kind"] for variant in variants]
        duplicates = sorted({kind for kind in kinds if kinds.count(kind) > 1})
        if duplicates:
            raise serializers.ValidationError(
                f"Give at most one variant per kind; repeated: {', '.join(duplicates)}."
            )
        errors = {}
        for index, variant in enumerate(variants):
            try:
                check_syntax(TemplateVariant(**variant))
            except DjangoValidationError as exc:
                errors[index] = django_field_errors(exc)
        if errors:
            raise serializers.ValidationError(
                [errors.get(index, {}) for index in range(len(variants))]
            )
        return variants

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        template = copy.copy(self.instance) if self.instance else Template()
        for name in ("slug", "name", "subject", "body", "html_body", "sample_context"):
            if name in attrs:
                setattr(template, name, attrs[name])
        try:
            template.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_field_errors(exc)) from None
        return {"template": template, "variants": attrs.get("variants")}

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> Template:
        template = validated_data["template"]
        template.save()
        self._save_variants(template, validated_data["variants"] or [])
        logger.info("template %s created via the API", template.slug)
        return template

    @transaction.atomic
    def update(self, instance: Template, validated_data: dict[str, Any]) -> Template:
        template = validated_data["template"]
        template.save()
        if validated_data["variants"] is not None:
            template.variants.all().delete()
            self._save_variants(template, validated_data["variants"])
        logger.info("template %s changed via the API", template.slug)
        return template

    def _save_variants(self, template: Template, variants: list[dict]) -> None:
        TemplateVariant.objects.bulk_create(
            TemplateVariant(template=template, **variant) for variant in variants
        )
        # The response lists the variants: drop the stale prefetch, if any.
        getattr(template, "_prefetched_objects_cache", {}).pop("variants", None)


class RenderSerializer(serializers.Serializer):
    context = JSONObjectField(
        required=False, default=dict, help_text="The variables to render with."
    )
    kind = _kind_field(
        required=False,
        allow_null=True,
        default=None,
        help_text="Render the variant for this channel kind, if it has one.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        _set_kind_choices(fields)
        return fields


class PreviewSerializer(serializers.Serializer):
    subject = serializers.CharField(help_text="The rendered subject.")
    body = serializers.CharField(help_text="The rendered body.")
    html_body = serializers.CharField(help_text="The rendered HTML body.")


@extend_schema_view(
    list=extend_schema(summary="List templates"),
    retrieve=extend_schema(summary="Read a template", parameters=[SLUG]),
    create=extend_schema(
        summary="Create a template", examples=examples.TEMPLATE_REQUESTS
    ),
    partial_update=extend_schema(summary="Change a template", parameters=[SLUG]),
    destroy=extend_schema(
        summary="Delete a template",
        parameters=[SLUG],
        description="Notifications made from it keep their rendered message.",
    ),
)
class TemplateViewSet(viewsets.ModelViewSet):
    queryset = Template.objects.prefetch_related("variants")
    serializer_class = TemplateSerializer
    lookup_field = "slug"
    filter_backends: list[type] = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {"preview": ("notifications.view_template",)}
    conflict_actions = {
        "create": "Another request created a template with this slug meanwhile.",
        "partial_update": "Another request gave a template this slug meanwhile.",
    }

    @extend_schema(
        summary="Preview a template",
        parameters=[SLUG],
        description=(
            "Renders the template with a context. A 400 names the missing "
            "variables in `error.missing`."
        ),
        request=RenderSerializer,
        responses={200: OpenApiResponse(PreviewSerializer)},
        examples=examples.PREVIEW_REQUESTS,
    )
    @action(detail=True, methods=["post"])
    def preview(self, request: Request, slug: str) -> Response:
        serializer = RenderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = self.get_object()
        rendered = render_template(
            template,
            serializer.validated_data["kind"] or "",
            serializer.validated_data["context"],
        )
        return Response(PreviewSerializer(rendered).data)
