"""`bootstrap_admin` creates the first admin once and tells its password once."""

from __future__ import annotations

import re
from io import StringIO

from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command


def run() -> str:
    out = StringIO()
    call_command("bootstrap_admin", stdout=out)
    return out.getvalue()


def test_it_creates_a_superuser_whose_printed_password_works(db: None) -> None:
    output = run()

    password = re.search(r"^\s*password: (\S+)$", output, re.MULTILINE).group(1)
    user = authenticate(username="admin", password=password)
    assert user is not None and user.is_superuser and user.is_staff


def test_a_second_run_creates_nothing_and_shows_no_password(db: None) -> None:
    run()

    output = run()

    assert "password:" not in output
    assert get_user_model().objects.count() == 1
