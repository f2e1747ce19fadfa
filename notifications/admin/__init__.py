"""Orion's admin: the operators' console for sending and following notifications.

Everything an operator does here goes through `notifications.services`, the
same functions the API calls.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from notifications.admin import batch, channel, notification, template  # noqa: F401

admin.site.site_header = _("Orion")
admin.site.site_title = _("Orion")
admin.site.index_title = _("Notifications console")
