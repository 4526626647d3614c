"""`manage.py verify_history [--assembly SLUG]`: recompute every decision chain.

Exits 0 when the history is intact; otherwise names the first bad record of each broken
assembly on stderr and exits 1.
"""

from django.core.management.base import BaseCommand, CommandError

from assemblies.models import Assembly
from proposals import chain
from proposals.models import Decision


class Command(BaseCommand):
    help = "Verify the digest chain and the stored decisions and positions of each assembly."

    def add_arguments(self, parser):
        parser.add_argument("--assembly", metavar="SLUG", help="Verify only this assembly.")

    def handle(self, *args, assembly=None, **options):
        assemblies = Assembly.objects.order_by("slug")
        if assembly is not None:
            assemblies = assemblies.filter(slug=assembly)
            if not assemblies.exists():
                raise CommandError(f"No assembly with the slug '{assembly}'.", returncode=2)
        problems = [p for p in map(chain.verify_assembly, assemblies) if p is not None]
        for problem in problems:
            self.stderr.write(f"History broken: {problem}")
        if problems:
            raise CommandError(f"History broken in {len(problems)} assemblies.", returncode=1)
        decisions = Decision.objects.filter(assembly__in=assemblies).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"History intact: {decisions} decisions in {len(assemblies)} assemblies verified."
            )
        )
