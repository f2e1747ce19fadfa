"""Settings for the test suite: Orion's settings with test-safe defaults.

The environment still wins, so `.ci/run` can point the same suite at
PostgreSQL and Redis with ORION_DATABASE_URL and ORION_BROKER.
"""

import os

os.environ.setdefault("ORION_ENV_FILE", os.devnull)
os.environ.setdefault("ORION_SECRET_KEY", "orion-test-key-" + "x" * 48)
os.environ.setdefault("ORION_ALLOW_PRIVATE_DESTINATIONS", "true")
os.environ.setdefault("ORION_EMAIL_URL", "smtp://127.0.0.1:1025")
os.environ.setdefault("ORION_RETRY_BASE_SECONDS", "1")
# Tests send many messages a second to fakes; the tests of rate limiting turn
# the providers' limits back on where they need them.
os.environ.setdefault("ORION_PROVIDER_RATE_LIMITS", "false")

from orion.settings import *  # noqa: E402,F403

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not memory: tests start real qcluster processes and threads that
    # must see the same database. One file per run, so runs never collide.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(BASE_DIR / f".test-orion-{os.getpid()}.db")  # noqa: F405
    }

# Tests start threads and processes: a connection kept open for reuse by one
# of them would hold the PostgreSQL test database open at teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# Throttle counters must not leak from one test into the next.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if ORION_BROKER != "orm":  # noqa: F405
    # Each test run gets its own Redis queue, so runs never eat each other's tasks.
    # A qcluster a test starts is told the queue through ORION_TEST_QUEUE.
    Q_CLUSTER["name"] = os.environ.get(  # noqa: F405
        "ORION_TEST_QUEUE", f"orion-test-{os.getpid()}"
    )
