"""``frontdesk create_api_token``: a bearer token for another system, shown once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontdesk.accounts.models import ApiToken, StaffMember
from frontdesk.accounts.services import create_api_token


class Command(BaseCommand):
    help = "Create an API token acting as a staff member, with scopes; the token is printed once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The staff member the token acts as.")
        parser.add_argument("--name", required=True, help="Who uses it, e.g. CRM.")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=ApiToken.Scope.values,
            required=True,
            help="Repeat for several scopes.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        staff = StaffMember.objects.filter(username=options["username"], is_active=True).first()
        if staff is None:
            raise CommandError(f"No active staff member called {options['username']!r}.")
        token, raw = create_api_token(staff_member=staff, name=options["name"], scopes=options["scopes"])
        self.stdout.write(raw)
        self.stderr.write(
            f"Token {token.prefix}… for {staff.username} ({', '.join(token.scopes)}); it is not shown again."
        )
