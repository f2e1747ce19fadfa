"""Strict rendering of message templates.

Django's template language renders a missing variable as an empty string.
For a message to a customer that is a silent defect, so Orion collects every
missing variable while rendering and refuses the result if there was one.
`{% if name %}` still treats a missing variable as false, which is the way to
write an optional part.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError
from django.utils.translation import gettext as _

_missing = threading.local()


class _MissingCollector(str):
    """Django's `string_if_invalid`, noting each missing variable's name."""

    def __bool__(self) -> bool:
        # Django consults `string_if_invalid` only when it is truthy: as an
        # empty str it is not, and every missing variable would pass unnoticed.
        return True

    def __contains__(self, item: object) -> bool:
        return item == "%s"

    def __mod__(self, name: object) -> str:
        found = getattr(_missing, "names", None)
        if found is not None and str(name) not in found:
            found.append(str(name))
        return ""


@lru_cache(maxsize=2)
def _engine(autoescape: bool) -> Engine:
    return Engine(
        string_if_invalid=_MissingCollector(),
        autoescape=autoescape,
        builtins=["django.templatetags.i18n"],
    )


class MissingVariables(ValidationError):
    """Raised when the context lacks variables the template uses."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        message = _("Missing template variables: %(names)s.")
        super().__init__({"context": [message % {"names": ", ".join(names)}]})


@dataclasses.dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html_body: str = ""


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool) -> Any:
    """Parse once per distinct source: a batch renders one template many times.

    Django's compiled templates keep no per-render state, so sharing one
    between threads is safe.
    """
    return _engine(html).from_string(source)


def render_string(
    source: str, context: Mapping[str, Any], *, html: bool = False
) -> str:
    """Render one template string; raise `MissingVariables` or `ValidationError`."""
    try:
        template = _compiled(source, html)
    except TemplateSyntaxError as exc:
        raise ValidationError(
            {"template": [_("Template error: %(error)s") % {"error": exc}]}
        ) from None
    _missing.names = []
    try:
        text = template.render(Context(dict(context), autoescape=html))
        names = list(_missing.names)
    except Exception as exc:
        # A filter given data it cannot take (divisibleby:0) or a tag needing
        # what Orion lacks ({% url %}, {% include %}) raises: a fault of the
        # template or its context, to report like a syntax error.
        message = _("Template error while rendering: %(error)s")
        raise ValidationError({"template": [message % {"error": exc}]}) from None
    finally:
        _missing.names = None
    if names:
        raise MissingVariables(names)
    return text


def render_parts(
    subject: str, body: str, html_body: str, context: Mapping[str, Any]
) -> Rendered:
    """Render subject, body and HTML body, reporting all missing variables at once."""
    missing: list[str] = []
    results = []
    for source, html in ((subject, False), (body, False), (html_body, True)):
        try:
            results.append(render_string(source, context, html=html) if source else "")
        except MissingVariables as exc:
            missing += [name for name in exc.names if name not in missing]
            results.append("")
    if missing:
        raise MissingVariables(missing)
    return Rendered(results[0].strip(), results[1], results[2])


def render_template(template: Any, kind: str, context: Mapping[str, Any]) -> Rendered:
    """Render `template` for a channel of `kind`, using its variant if it has one."""
    variant = next((v for v in template.variants.all() if v.kind == kind), None)
    source = variant or template
    return render_parts(source.subject, source.body, source.html_body, context)


def check_syntax(template: Any) -> None:
    """Raise `ValidationError` naming the field whose template does not parse."""
    errors: dict[str, list[str]] = {}
    for field in ("subject", "body", "html_body"):
        try:
            _engine(field == "html_body").from_string(getattr(template, field) or "")
        except TemplateSyntaxError as exc:
            errors[field] = [_("Template error: %(error)s") % {"error": exc}]
    if errors:
        raise ValidationError(errors)
