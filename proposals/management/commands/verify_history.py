"""`manage.py verify_history [--assembly SLUG] [--since EARLIER]`: recompute every chain.

Exits 0 when the history is intact; otherwise names the first bad record of each broken
assembly on stderr and exits 1. With --since (an earlier history.json, signed tree head or
receipt), the assembly's decisions in the database must also extend it, as
`tools/verify_history.py --since` checks a download (docs/history-verification.md).
"""

import json

from django.core.management.base import BaseCommand, CommandError

from assemblies.models import Assembly
from proposals import chain, merkle, since, transparency
from proposals.models import Decision


def _signature_problem(head: dict) -> str | None:
    if not transparency.signature_valid(head):
        return "its signature is not this server's"
    return None


def _earlier_slug(earlier) -> str | None:
    if not isinstance(earlier, dict):
        return None
    assembly = earlier.get("assembly")
    if isinstance(assembly, dict):
        return assembly.get("slug")
    return assembly if isinstance(assembly, str) else None


class Command(BaseCommand):
    help = "Verify the digest chain and the stored decisions and positions of each assembly."

    def add_arguments(self, parser):
        parser.add_argument("--assembly", metavar="SLUG", help="Verify only this assembly.")
        parser.add_argument(
            "--since",
            metavar="EARLIER",
            help="An earlier history.json, tree head or receipt the database must extend.",
        )

    def handle(self, *args, assembly=None, since=None, **options):
        earlier = self._read(since) if since else None
        if earlier is not None:
            assembly = assembly or _earlier_slug(earlier)
            if assembly is None:
                raise CommandError(f"{since} names no assembly.", returncode=2)
        assemblies = Assembly.objects.order_by("slug")
        if assembly is not None:
            assemblies = assemblies.filter(slug=assembly)
            if not assemblies.exists():
                raise CommandError(f"No assembly with the slug '{assembly}'.", returncode=2)
        problems = [str(p) for p in map(chain.verify_assembly, assemblies) if p is not None]
        problems += [p for p in map(self._head_problem, assemblies) if p is not None]
        if earlier is not None and not problems:
            problem = self._since_problem(assemblies.get(), earlier)
            if problem:
                problems.append(problem)
        for problem in problems:
            self.stderr.write(f"History broken: {problem}")
        if problems:
            raise CommandError(f"History broken in {len(problems)} assemblies.", returncode=1)
        decisions = Decision.objects.filter(assembly__in=assemblies).count()
        extends = f" It extends {since}." if since else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"History intact: {decisions} decisions in {len(assemblies)} assemblies verified."
                + extends
            )
        )

    def _read(self, path: str):
        try:
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read {path}: {error}", returncode=2) from error

    def _head_problem(self, assembly: Assembly) -> str | None:
        """The newest stored head must be signed by this server and cover every decision."""
        head = transparency.latest_head(assembly)
        decisions = [
            {"record": record, "digest": digest}
            for _seq, record, digest in transparency.entries(assembly.pk)
        ]
        if head is None:
            if decisions:
                return f"assembly '{assembly.slug}': its decisions have no signed tree head"
            return None
        document = transparency.head_document(head, assembly.slug)
        label = f"assembly '{assembly.slug}', tree head of {head.tree_size} decisions"
        if not transparency.signature_valid(document):
            return f"{label}: its signature is not this server's"
        if head.tree_size != len(decisions):
            return f"{label}: the database holds {len(decisions)} decisions"
        hashes = since.leaf_hashes_of(decisions)
        if merkle.root_hash(hashes).hex() != head.root_hash:
            return f"{label}: the decisions do not hash to its root"
        return None

    def _since_problem(self, assembly: Assembly, earlier) -> str | None:
        fields = ("sequence", "previous_digest", "digest", "record")
        rows = Decision.objects.filter(assembly=assembly).order_by("sequence")
        decisions = [dict(zip(fields, row, strict=True)) for row in rows.values_list(*fields)]
        problem = since.extends_problem(decisions, earlier, _signature_problem)
        if problem is None:
            return None
        label, reason = problem
        return f"assembly '{assembly.slug}', {label}: {reason}"
