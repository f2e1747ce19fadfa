"""WSGI entry point for Orion's web server."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orion.settings")
application = get_wsgi_application()

from orion.startup import refuse_misconfiguration  # noqa: E402

refuse_misconfiguration()
