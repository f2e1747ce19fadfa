"""Channels: write-only secrets, health at a glance, and a test send."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

import adapters
from notifications import ratelimit, services
from notifications.admin.common import can_test_channel, when
from notifications.models import Channel, Notification, Status

SECRET_PREFIX = "secret_"
CLEAR_PREFIX = "clear_"
HEALTH_WINDOW = datetime.timedelta(hours=24)


def _adapter(kind: str) -> Any:
    try:
        return adapters.get_adapter(kind)
    except KeyError:
        return None


def secret_names(kind: str | None) -> list[str]:
    """The secrets a channel of `kind` takes; every kind's for a new channel."""
    if kind:
        adapter = _adapter(kind)
        if adapter is None:
            return []
        return [*adapter.secrets_required, *adapter.secrets_optional]
    names: list[str] = []
    for each, _label in adapters.kinds():
        for name in secret_names(each):
            if name not in names:
                names.append(name)
    return names


def _secret_help(name: str, channel: Channel | None) -> str:
    if channel is None or not channel.pk:
        users = []
        for kind, label in adapters.kinds():
            adapter = adapters.get_adapter(kind)
            if name in adapter.secrets_required:
                users.append(gettext("%(kind)s (required)") % {"kind": label})
            elif name in adapter.secrets_optional:
                users.append(gettext("%(kind)s (optional)") % {"kind": label})
        return gettext("Used by: %(kinds)s.") % {"kinds": ", ".join(users)}
    shown = _masked(channel).get(name, {"set": False, "last4": ""})
    return _mask_text(shown) + " " + gettext("Leave empty to keep it.")


def _mask_text(shown: dict[str, Any]) -> str:
    if not shown["set"]:
        return gettext("Not set.")
    if shown["last4"]:
        return gettext("Set, ending in …%(last4)s.") % {"last4": shown["last4"]}
    return gettext("Set.")


def _masked(channel: Channel) -> dict[str, dict[str, Any]]:
    try:
        return channel.masked_secrets()
    except KeyError:
        return {}


def _config_help(kind: str | None) -> str:
    adapter = _adapter(kind) if kind else None
    if adapter is None:
        return gettext(
            "Settings as a JSON object; each kind's keys are listed in the "
            "channel documentation."
        )
    keys = [gettext("%(key)s (required)") % {"key": k} for k in adapter.config_required]
    keys += [
        gettext("%(key)s (default %(default)s)") % {"key": k, "default": json.dumps(v)}
        for k, v in adapter.config_optional.items()
    ]
    if not keys:
        return gettext("A %(kind)s channel takes no settings.") % {
            "kind": adapter.label
        }
    return gettext("Settings as a JSON object. Keys: %(keys)s.") % {
        "keys": ", ".join(keys)
    }


def _rate_limit_help(kind: str | None) -> str:
    adapter = _adapter(kind) if kind else None
    text = gettext(
        'A list like [{"count": 5, "seconds": 1}]; empty means the provider\'s '
        "documented limits."
    )
    if adapter is not None and adapter.rate_limits:
        limits = ", ".join(
            gettext("%(count)d per %(seconds)d s")
            % {"count": r.count, "seconds": r.seconds}
            for r in adapter.rate_limits
        )
        text += " " + gettext("The provider's: %(limits)s.") % {"limits": limits}
    return text


class ChannelForm(forms.ModelForm):
    """A channel's settings; secrets are write-only inputs added per kind.

    A secret input is never filled in: leaving it empty keeps the stored
    value, and an optional secret has a checkbox to clear it.
    """

    class Meta:
        model = Channel
        fields = ("slug", "name", "kind", "enabled", "config", "rate_limit")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel = self.instance if self.instance.pk else None
        kind = channel.kind if channel else None
        if "kind" in self.fields:
            self.fields["kind"] = forms.ChoiceField(
                label=capfirst(_("kind")),
                choices=[("", "---------"), *adapters.kinds()],
            )
        if "config" in self.fields:
            self.fields["config"].help_text = _config_help(kind)
            self.fields["config"].widget.attrs.update(rows=3)
        if "rate_limit" in self.fields:
            self.fields["rate_limit"].help_text = _rate_limit_help(kind)
            self.fields["rate_limit"].widget.attrs.update(rows=2)
        adapter = _adapter(kind) if kind else None
        masked = _masked(channel) if channel else {}
        for name in secret_names(kind):
            self.fields[SECRET_PREFIX + name] = forms.CharField(
                label=name,
                required=False,
                strip=True,
                widget=forms.PasswordInput(
                    render_value=False,
                    attrs={"autocomplete": "new-password", "class": "vTextField"},
                ),
                help_text=_secret_help(name, channel),
            )
            optional = adapter is not None and name in adapter.secrets_optional
            if optional and masked.get(name, {}).get("set"):
                self.fields[CLEAR_PREFIX + name] = forms.BooleanField(
                    label=gettext("Clear %(name)s (leave it unset)") % {"name": name},
                    required=False,
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind") or self.instance.kind
        adapter = _adapter(kind) if kind else None
        secrets = dict(self.instance.secrets or {}) if self.instance.pk else {}
        allowed = (
            {*adapter.secrets_required, *adapter.secrets_optional} if adapter else set()
        )
        for field in [f for f in self.fields if f.startswith(SECRET_PREFIX)]:
            name = field.removeprefix(SECRET_PREFIX)
            value = data.get(field)
            if value:
                if adapter is not None and name not in allowed:
                    self.add_error(
                        field,
                        gettext("A %(kind)s channel does not use this secret.")
                        % {"kind": adapter.label},
                    )
                secrets[name] = value
            elif data.get(CLEAR_PREFIX + name):
                secrets.pop(name, None)
        # Channel.clean() validates the secrets with the config and stores
        # the cleaned values on the instance.
        self.instance.secrets = secrets
        return data

    def _update_errors(self, errors: ValidationError) -> None:
        """Show the adapter's "config.key" and "secrets.key" errors on fields."""
        if not hasattr(errors, "error_dict"):
            return super()._update_errors(errors)
        mapped: dict[str, list[Any]] = {}
        for key, items in errors.error_dict.items():
            field, _sep, sub = key.partition(".")
            if field == "secrets" and SECRET_PREFIX + sub in self.fields:
                target = SECRET_PREFIX + sub
            elif field in self.fields:
                target = field
            else:
                target = NON_FIELD_ERRORS
            for item in items:
                if sub and target in ("config", NON_FIELD_ERRORS):
                    item = ValidationError(f"{sub}: {' '.join(item.messages)}")
                mapped.setdefault(target, []).append(item)
        return super()._update_errors(ValidationError(mapped))


class ChannelChangeList(ChangeList):
    """Adds each listed channel's last-24-hours figures in one query."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        self.result_list = list(self.result_list)
        figures = recent_figures([c.pk for c in self.result_list])
        for channel in self.result_list:
            channel.recent = figures.get(channel.pk, {})


def recent_figures(channel_ids: list[int]) -> dict[int, dict[str, int]]:
    """Notifications created in the last 24 hours, by channel and status."""
    if not channel_ids:
        return {}
    since = timezone.now() - HEALTH_WINDOW
    rows = (
        Notification.objects.filter(channel_id__in=channel_ids, created_at__gte=since)
        .values("channel_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    figures: dict[int, dict[str, int]] = {}
    for row in rows:
        figures.setdefault(row["channel_id"], {})[row["status"]] = row["n"]
    return figures


def success_rate(figures: dict[str, int]) -> float | None:
    """Sent out of finished sends (sent or failed); None when there were none."""
    sent = figures.get(Status.SENT, 0)
    finished = sent + figures.get(Status.FAILED, 0)
    return sent / finished if finished else None


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = (
        "slug",
        "name",
        "kind_display",
        "enabled",
        "credential_display",
        "success_display",
        "last_error_at",
    )
    list_filter = ("kind", "enabled")
    search_fields = ("slug", "name")
    readonly_fields = ("secrets_status", "health", "last_error_display")
    change_form_template = "admin/notifications/channel/change_form.html"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ChannelChangeList

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Channels are disabled, not deleted: their notifications keep them.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None or not super().has_delete_permission(request, obj):
            return False
        return not obj.notifications.exists()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple:
        if obj is not None:
            return (*self.readonly_fields, "kind_display")
        return ()

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list:
        editable = obj is None or self.has_change_permission(request, obj)
        # The kind is chosen once: another kind takes other secrets.
        main = ["slug", "name", "kind" if obj is None else "kind_display", "enabled"]
        if not editable:
            return [
                (None, {"fields": main}),
                (_("Health"), {"fields": ["health", "last_error_display"]}),
                (_("Secrets"), {"fields": ["secrets_status"]}),
                (_("Settings"), {"fields": ["config", "rate_limit"]}),
            ]
        kind = obj.kind if obj is not None else None
        secrets: list[str] = []
        adapter = _adapter(kind) if kind else None
        masked = _masked(obj) if obj is not None else {}
        for name in secret_names(kind):
            secrets.append(SECRET_PREFIX + name)
            optional = adapter is not None and name in adapter.secrets_optional
            if optional and masked.get(name, {}).get("set"):
                secrets.append(CLEAR_PREFIX + name)
        fieldsets: list = [(None, {"fields": main})]
        if obj is not None:
            fieldsets.append(
                (_("Health"), {"fields": ["health", "last_error_display"]})
            )
        fieldsets += [
            (
                _("Secrets"),
                {
                    "fields": secrets,
                    "description": _(
                        "Secrets are write-only: they are stored encrypted and "
                        "never shown again. Type a new value to replace one."
                    ),
                },
            ),
            (_("Settings"), {"fields": ["config", "rate_limit"]}),
        ]
        return fieldsets

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        # The secret inputs are added by ChannelForm itself, per kind; the
        # model form factory only knows the model's fields.
        fields = kwargs.get("fields")
        if fields:
            kwargs["fields"] = [
                f for f in fields if not f.startswith((SECRET_PREFIX, CLEAR_PREFIX))
            ]
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description=_("kind"), ordering="kind")
    def kind_display(self, channel: Channel) -> str:
        return dict(adapters.kinds()).get(channel.kind, channel.kind)

    @admin.display(description=_("credential"))
    def credential_display(self, channel: Channel) -> SafeString:
        if channel.credential_dead_at:
            return format_html(
                '<span class="orion-badge orion-status-failed">{}</span>',
                gettext("rejected by the provider"),
            )
        return format_html('<span class="orion-help">{}</span>', gettext("ok"))

    @admin.display(description=_("sent, last 24 h"))
    def success_display(self, channel: Channel) -> str:
        return _percent(success_rate(getattr(channel, "recent", {})))

    @admin.display(description=_("secrets"))
    def secrets_status(self, channel: Channel) -> SafeString | str:
        masked = _masked(channel)
        if not masked:
            return "-"
        return format_html_join(
            mark_safe("<br>"),
            "<code>{}</code>: {}",
            ((name, _mask_text(shown)) for name, shown in masked.items()),
        )

    @admin.display(description=_("last error"))
    def last_error_display(self, channel: Channel) -> SafeString | str:
        if not channel.last_error:
            return "-"
        return format_html(
            '<pre class="orion-pre">{}</pre><span class="orion-help">{}</span>',
            channel.last_error,
            when(channel.last_error_at),
        )

    @admin.display(description=_("health"))
    def health(self, channel: Channel) -> SafeString:
        figures = recent_figures([channel.pk]).get(channel.pk, {})
        rate = success_rate(figures)
        lines = [
            gettext(
                "Sent in the last 24 hours: %(rate)s "
                "(%(sent)d sent, %(failed)d failed)."
            )
            % {
                "rate": _percent(rate),
                "sent": figures.get(Status.SENT, 0),
                "failed": figures.get(Status.FAILED, 0),
            }
        ]
        try:
            limited = ratelimit.is_limited(channel)
        except KeyError:
            limited = False
        lines.append(
            gettext("Rate-limited right now: the next sends wait for the window.")
            if limited
            else gettext("Not rate-limited right now.")
        )
        if not channel.enabled:
            lines.append(gettext("Disabled: nothing is sent through it."))
        items = format_html_join("", "<li>{}</li>", ((line,) for line in lines))
        if channel.credential_dead_at:
            warning = format_html(
                '<p class="orion-alert">{}</p>',
                gettext(
                    "The provider rejected this channel's token or key at %(at)s. "
                    "Sends through it fail until an operator sets a new one."
                )
                % {"at": when(channel.credential_dead_at)},
            )
            return format_html("{}<ul class='orion-list'>{}</ul>", warning, items)
        return format_html("<ul class='orion-list'>{}</ul>", items)

    # -- test send -------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/test/",
                self.admin_site.admin_view(self.test_view),
                name="notifications_channel_test",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = {**(extra_context or {}), "can_test": can_test_channel(request)}
        return super().change_view(request, object_id, form_url, extra)

    def test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Send a test message now and show the provider's answer."""
        if not can_test_channel(request):
            raise PermissionDenied
        channel = self.get_object(request, object_id)
        if channel is None:
            raise Http404
        result = None
        error = ""
        recipient = ""
        if request.method == "POST":
            recipient = request.POST.get("recipient", "").strip()
            try:
                result = services.test_send(channel, recipient, by=request.user)
            except ValidationError as exc:
                error = " ".join(exc.messages)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Send a test message"),
            "opts": self.opts,
            "original": channel,
            "result": result,
            "error": error,
            "recipient": recipient,
            "change_url": reverse(
                "admin:notifications_channel_change", args=[channel.pk]
            ),
        }
        return TemplateResponse(
            request, "admin/notifications/channel/test_send.html", context
        )
