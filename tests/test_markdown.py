"""Markdown: one linear-time renderer (cmark-gfm + nh3), run once when a text is written."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from assemblies import services as assembly_services
from core.markdown import MAX_DEPTH, render_markdown
from proposals import services as proposal_services

BENCH = Path(__file__).resolve().parents[1] / "bench" / "markdown_adversarial.py"


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("We buy a **blue tarp**.", "<p>We buy a <strong>blue tarp</strong>.</p>\n"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"),
        ("~~old~~ new", "<p><del>old</del> new</p>\n"),
    ],
)
def test_it_renders_commonmark_with_tables_and_strikethrough(text, html):
    assert render_markdown(text) == html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        '<img src=x onerror="alert(1)">',
        "<a href='https://e.example' onclick='x()'>a</a>",
        "![x](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_it_stays_inert(payload):
    html = render_markdown(payload)
    for forbidden in ("<script", "javascript:", "onerror", "onclick", "<img", "data:text"):
        assert forbidden not in html


def test_output_nested_too_deep_is_shown_as_the_plain_text_it_was():
    html = render_markdown(">" * (MAX_DEPTH + 5) + " deep")
    assert html.startswith("<p>&gt;&gt;")
    assert "<blockquote>" not in html
    assert render_markdown("> " * 3 + "fine").count("<blockquote>") == 3


@pytest.mark.django_db
def test_texts_are_rendered_once_when_written(facilitator, participant, proposal):
    assert proposal.revisions.get().text_html.startswith("<p>We buy a <strong>blue tarp</strong>")
    comment = proposal_services.add_comment(
        actor=participant, proposal=proposal, kind="concern", text="*Too* dear."
    )
    assert comment.text_html == "<p><em>Too</em> dear.</p>\n"
    assembly = assembly_services.update_assembly(
        actor=facilitator, assembly=proposal.assembly, description="We meet **here**."
    )
    assembly.refresh_from_db()
    assert assembly.description_html == "<p>We meet <strong>here</strong>.</p>\n"


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="triggers exist on PostgreSQL only")
def test_the_stored_html_of_a_revision_never_changes(proposal):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as c,
    ):
        c.execute(
            "UPDATE proposals_revision SET text_html = '<p>Else</p>' WHERE proposal_id = %s",
            [proposal.pk],
        )


def test_the_adversarial_benchmark_passes_at_a_tenth_of_the_lengths():
    """The bounded CI run of bench/markdown_adversarial.py (the full run is in bench/)."""
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--runs", "3"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS" in result.stdout
