"""ASGI entry point for Orion's web server."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orion.settings")
application = get_asgi_application()

from orion.startup import refuse_misconfiguration  # noqa: E402

refuse_misconfiguration()
