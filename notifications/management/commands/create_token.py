"""`manage.py create_token`: issue an API token for a user, or revoke one."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.api.tokens import issue_token, revoke_tokens


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME and print it once: Orion keeps only "
        "its hash. The token acts with the user's permissions. With --revoke "
        "PREFIX, revoke the token(s) with that prefix instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "username", nargs="?", help="The user the token acts as, e.g. ci-bot."
        )
        parser.add_argument(
            "--name", default="", help="What the token is for, e.g. --name grafana."
        )
        parser.add_argument(
            "--expires-in",
            type=int,
            metavar="DAYS",
            help="Days until the token expires, e.g. --expires-in 90; never "
            "when left out.",
        )
        parser.add_argument(
            "--revoke",
            metavar="PREFIX",
            help="Revoke the token(s) whose prefix (the first 12 characters, "
            "shown in the admin) is PREFIX, e.g. --revoke orion_AbC123.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["revoke"]:
            count = revoke_tokens(options["revoke"])
            if not count:
                raise CommandError(
                    f"No active token has the prefix {options['revoke']!r}."
                )
            self.stdout.write(f"Revoked {count} token(s).")
            return

        if not options["username"]:
            raise CommandError("Give a USERNAME, or --revoke PREFIX.")
        days = options["expires_in"]
        if days is not None and not 1 <= days <= 36500:
            raise CommandError("--expires-in takes a number of days from 1 to 36500.")
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: options["username"]})
        except User.DoesNotExist:
            raise CommandError(f"No user {options['username']!r}.") from None

        token, raw = issue_token(
            user,
            name=options["name"],
            expires_in=datetime.timedelta(days=days) if days else None,
        )
        if self.stdout.isatty():
            self.stderr.write(
                f"Token {token.prefix}… for {user}; it is shown only this once:"
            )
        self.stdout.write(raw)
