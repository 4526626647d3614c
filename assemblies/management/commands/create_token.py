"""`manage.py create_token <username>`: print a new personal API token for that person.

Any earlier token of theirs stops working (one token per person).
"""

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from assemblies import accounts


class Command(BaseCommand):
    help = "Create (or replace) a personal API token for a user and print it."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named '{username}'.")
        token = accounts.create_api_token(user=user)
        self.stdout.write(token.key)
