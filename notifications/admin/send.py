"""The operator's send form: fill in, preview, confirm.

Every notification is validated by `services.prepare` for the preview and
created by `services.create_notification` or `services.create_batch` on
confirmation, exactly as an API request would be.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

import adapters
from notifications import services
from notifications.admin.common import VIA
from notifications.models import (
    Channel,
    IdempotencyKey,
    Notification,
    Priority,
    Template,
)

# The most notifications one form may create: a pasted list, times channels.
MAX_SEND = 5000
# Notification.recipient's max_length.
MAX_RECIPIENT = Notification._meta.get_field("recipient").max_length or 320
# Line errors shown at once; the rest are counted.
MAX_LINE_ERRORS = 20
# Where a domain error about a spec field is shown on the form.
FIELD_FOR = {
    "channel": "channels",
    "recipient": "recipients",
    "template": "template",
    "context": "context",
    "subject": "subject",
    "body": "body",
    "html_body": "body",
    "priority": "priority",
    "send_at": "send_at",
    "expires_at": "expires_at",
}


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class SendForm(forms.Form):
    """What an operator asks for; `clean()` turns it into validated specs."""

    channels = forms.ModelMultipleChoiceField(
        label=_("Channels"),
        queryset=Channel.objects.filter(enabled=True).order_by("slug"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("One notification per channel and recipient."),
    )
    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=Template.objects.order_by("slug"),
        required=False,
        empty_label=_("No template: write the subject and body below"),
    )
    context = forms.JSONField(
        label=_("Template context (JSON)"),
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField"}),
        help_text=_('The template\'s variables, e.g. {"host": "db-1"}.'),
    )
    subject = forms.CharField(
        label=_("Subject"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )
    body = forms.CharField(
        label=_("Body"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "vLargeTextField"}),
    )
    recipients = forms.CharField(
        label=_("Recipients"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "vLargeTextField"}),
        help_text=_(
            "One per line. Chat bots may leave this empty (the message goes to "
            "the group); email and SMS need one address or number per line."
        ),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    send_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=LocalDateTimeInput(),
        help_text=_("Leave empty to send now."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires at"),
        required=False,
        widget=LocalDateTimeInput(),
        help_text=_("Not sent at all if it cannot go out before this time."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
        help_text=_("Kept with the batch when several notifications are created."),
    )
    # One value per preview: confirming the same preview twice sends once.
    token = forms.CharField(required=False, widget=forms.HiddenInput)

    specs: list[services.NotificationSpec]
    prepared: list[Notification]
    duplicates: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channels"].label_from_instance = _channel_label
        zone = timezone.get_current_timezone_name()
        for name in ("send_at", "expires_at"):
            self.fields[name].help_text = format_lazy(
                "{} {}",
                self.fields[name].help_text,
                _("Times are in %(zone)s.") % {"zone": zone},
            )

    def clean_context(self) -> dict[str, Any]:
        value = self.cleaned_data.get("context")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise ValidationError(_('Give a JSON object, like {"name": "value"}.'))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        channels = list(data.get("channels") or [])
        template = data.get("template")
        # Whether a body is needed (and with a template, allowed) is the
        # domain's call: services.prepare() says so per channel kind.
        if not channels or self.errors:
            return data

        recipients = self._recipients(channels, data.get("recipients", ""))
        if recipients is None:
            return data
        count = sum(len(r) for r in recipients.values())
        if count > MAX_SEND:
            self.add_error(
                "recipients",
                _("This would create %(count)d notifications; the limit is %(max)d.")
                % {"count": count, "max": MAX_SEND},
            )
            return data

        if template is not None:
            # One query for the variants, not one per notification.
            template = Template.objects.prefetch_related("variants").get(pk=template.pk)
        self.specs = [
            services.NotificationSpec(
                channel=channel,
                recipient=recipient,
                template=template,
                context=data.get("context") or {},
                subject=data.get("subject", ""),
                body=data.get("body", ""),
                priority=data.get("priority") or Priority.NORMAL,
                send_at=data.get("send_at"),
                expires_at=data.get("expires_at"),
            )
            for channel in channels
            for recipient in recipients[channel.pk]
        ]
        self._prepare()
        return data

    def _recipients(
        self, channels: list[Channel], text: str
    ) -> dict[int, list[str]] | None:
        """Each channel's cleaned recipients, without duplicates; None on errors.

        Every line is checked against every chosen channel's kind, and each
        bad line is named with its number, so the operator can fix the list.
        """
        lines = [
            (number, line.strip())
            for number, line in enumerate(text.splitlines(), start=1)
            if line.strip()
        ]
        errors: list[str] = []
        cleaned: dict[int, list[str]] = {}
        self.duplicates = 0
        for channel in channels:
            adapter = channel.adapter
            found: list[str] = []
            repeated = 0
            for number, line in lines or [(0, "")]:
                try:
                    recipient = adapter.clean_recipient(line)
                    if len(recipient) > MAX_RECIPIENT:
                        raise ValidationError(
                            gettext("Give at most %(max)d characters.")
                            % {"max": MAX_RECIPIENT}
                        )
                except ValidationError as exc:
                    errors.append(_line_error(number, line, channel, exc))
                    continue
                if recipient in found:
                    repeated += 1
                    continue
                found.append(recipient)
            cleaned[channel.pk] = found
            self.duplicates = max(self.duplicates, repeated)
        if errors:
            shown = errors[:MAX_LINE_ERRORS]
            if len(errors) > MAX_LINE_ERRORS:
                shown.append(
                    gettext("… and %(more)d more.")
                    % {"more": len(errors) - MAX_LINE_ERRORS}
                )
            self.add_error("recipients", shown)
            return None
        return cleaned

    def _prepare(self) -> None:
        """Validate every spec with the domain's own checks, as the API does."""
        self.prepared = []
        seen: set[tuple[str, str]] = set()
        several = len({str(spec.channel) for spec in self.specs}) > 1
        for spec in self.specs:
            try:
                notification = services.prepare(spec, via=VIA)
            except ValidationError as exc:
                for field, message in _field_messages(exc):
                    # With several channels, say which one refused.
                    prefix = f"{spec.channel}: " if several else ""
                    if (field, prefix + message) not in seen:
                        seen.add((field, prefix + message))
                        self.add_error(FIELD_FOR.get(field), prefix + message)
                continue
            self.prepared.append(notification)

    def previews(self) -> list[dict[str, Any]]:
        """The rendered message once per channel kind: variants differ by kind."""
        by_kind: dict[str, dict[str, Any]] = {}
        for notification in self.prepared:
            channel = notification.channel
            entry = by_kind.setdefault(
                channel.kind,
                {
                    "kind": channel.kind,
                    "label": dict(adapters.kinds()).get(channel.kind, channel.kind),
                    "channels": [],
                    "subject": notification.subject,
                    "body": notification.body,
                    "html_body": notification.html_body,
                },
            )
            if channel.slug not in entry["channels"]:
                entry["channels"].append(channel.slug)
        return list(by_kind.values())

    def fingerprint(self) -> str:
        """A hash of what is being sent, kept with the send's idempotency key."""
        items = [
            dataclasses.asdict(
                dataclasses.replace(
                    spec,
                    channel=str(spec.channel),
                    template=str(spec.template) if spec.template else None,
                )
            )
            for spec in self.specs
        ]
        text = json.dumps(items, default=str, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _channel_label(channel: Channel) -> str:
    kind = dict(adapters.kinds()).get(channel.kind, channel.kind)
    return f"{channel.slug} — {channel.name} ({kind})"


def _line_error(number: int, line: str, channel: Channel, exc: ValidationError) -> str:
    reason = " ".join(message for _field, message in _field_messages(exc))
    if number == 0:
        return gettext("%(channel)s: %(reason)s") % {
            "channel": channel.slug,
            "reason": reason,
        }
    return gettext("Line %(number)d (“%(line)s”) for %(channel)s: %(reason)s") % {
        "number": number,
        "line": line[:80],
        "channel": channel.slug,
        "reason": reason,
    }


def _field_messages(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [
            (field, message)
            for field, messages_ in exc.message_dict.items()
            for message in messages_
        ]
    return [("", message) for message in exc.messages]


def send_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """GET: the form. POST: preview, edit again, or confirm and create."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied

    if request.method != "POST":
        form = SendForm(initial=_initial(request))
        return _render_form(model_admin, request, form)

    if "_edit" in request.POST:
        data = request.POST.copy()
        data.pop("token", None)
        return _render_form(model_admin, request, SendForm(data))
    form = SendForm(request.POST)
    if not form.is_valid():
        return _render_form(model_admin, request, form)
    if "_confirm" in request.POST and form.cleaned_data.get("token"):
        return _create(model_admin, request, form)
    return _render_preview(model_admin, request, form)


def _initial(request: HttpRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {"priority": Priority.NORMAL}
    if request.GET.get("channel"):
        initial["channels"] = list(
            Channel.objects.filter(slug=request.GET["channel"]).values_list(
                "pk", flat=True
            )
        )
    if request.GET.get("template"):
        initial["template"] = (
            Template.objects.filter(slug=request.GET["template"])
            .values_list("pk", flat=True)
            .first()
        )
    return initial


def _context(
    model_admin: admin.ModelAdmin, request: HttpRequest, **extra: Any
) -> dict[str, Any]:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": gettext("Send a notification"),
        **extra,
    }


def _render_form(
    model_admin: admin.ModelAdmin, request: HttpRequest, form: SendForm
) -> HttpResponse:
    return TemplateResponse(
        request,
        "admin/notifications/notification/send_form.html",
        _context(model_admin, request, form=form),
    )


def _render_preview(
    model_admin: admin.ModelAdmin, request: HttpRequest, form: SendForm
) -> HttpResponse:
    data = form.data.copy()
    data["token"] = uuid.uuid4().hex
    hidden = SendForm(data)
    recipients = sorted({n.recipient for n in form.prepared if n.recipient})
    context = _context(
        model_admin,
        request,
        title=gettext("Check and confirm"),
        form=hidden,
        previews=form.previews(),
        count=len(form.prepared),
        channels=form.cleaned_data["channels"],
        recipients=recipients[:50],
        more_recipients=max(0, len(recipients) - 50),
        duplicates=form.duplicates,
        cleaned=form.cleaned_data,
        priority_label=Priority(form.cleaned_data["priority"]).label,
    )
    return TemplateResponse(
        request, "admin/notifications/notification/send_preview.html", context
    )


def _create(
    model_admin: admin.ModelAdmin, request: HttpRequest, form: SendForm
) -> HttpResponse:
    """Create what the preview showed, once, however often it is confirmed."""
    key = "admin-send:" + form.cleaned_data["token"]
    specs = form.specs
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                user=request.user, key=key, request_hash=form.fingerprint()
            )
            if len(specs) == 1:
                notification = services.create_notification(
                    specs[0], created_by=request.user, via=VIA
                )
                url = reverse(
                    "admin:notifications_notification_change", args=[notification.pk]
                )
            else:
                batch, _created = services.create_batch(
                    specs,
                    created_by=request.user,
                    via=VIA,
                    note=form.cleaned_data.get("note", ""),
                )
                url = reverse("admin:notifications_batch_change", args=[batch.pk])
            record.response_status = 201
            record.response_body = {"admin_url": url}
            record.save(update_fields=["response_status", "response_body"])
    except IntegrityError:
        earlier = IdempotencyKey.objects.filter(user=request.user, key=key).first()
        if earlier is None:
            raise
        model_admin.message_user(
            request,
            gettext("This send was already confirmed; nothing more was created."),
            messages.WARNING,
        )
        return HttpResponseRedirect((earlier.response_body or {}).get("admin_url", ""))
    except services.BatchInvalid as exc:
        for index, errors in exc.errors.items():
            spec = specs[index]
            for message in _flatten(errors):
                form.add_error(None, f"{spec.channel} {spec.recipient}: {message}")
        return _render_form(model_admin, request, form)
    except ValidationError as exc:
        for field, message in _field_messages(exc):
            form.add_error(FIELD_FOR.get(field), message)
        return _render_form(model_admin, request, form)

    model_admin.message_user(
        request,
        ngettext(
            "Created %(count)d notification.",
            "Created %(count)d notifications in one batch.",
            len(specs),
        )
        % {"count": len(specs)},
        messages.SUCCESS,
    )
    return HttpResponseRedirect(url)


def _flatten(errors: Any) -> list[str]:
    if isinstance(errors, dict):
        return [f"{field}: {m}" for field, items in errors.items() for m in items]
    return [str(m) for m in errors]
